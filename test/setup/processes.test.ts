/**
 * A test that fails or times out leaves no `bucket serve` process behind: a vitest run of
 * ./fixtures/left-servers.fixture.ts, whose two tests end with their servers running, and then
 * neither server still runs.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

function vitest(dir: string): Promise<{ code: number | null; output: string }> {
  // The fixture run is a run of its own: none of this run's vitest variables, embedded backend.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('VITEST') && name !== 'BUCKET_TEST_BACKEND',
    ),
  );
  const child = spawn(
    process.execPath,
    [
      join(root, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--config',
      join(root, 'test/setup/fixtures/vitest.config.ts'),
    ],
    { cwd: root, env: { ...env, LEFT_SERVERS_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

/** Whether `pid` is still a Bucket process (not a zombie, not a reused pid). */
async function bucketRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return stat !== null && !/\)\s+Z/.test(stat) && command.includes('bucket.js');
}

test('a failed or timed-out test leaves no server process running', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-left-servers-'));
  dirs.push(dir);
  const { code, output } = await vitest(dir);

  expect(code, output).toBe(1);
  expect(output).toContain('fails with its server running');
  expect(output).toMatch(/times out with its server running[^\n]*\n?.*Test timed out/s);
  for (const name of ['failed', 'timed-out']) {
    const pid = Number(await readFile(join(dir, `${name}.pid`), 'utf8').catch(() => output));
    expect(pid, output).toBeGreaterThan(0);
    expect(await bucketRunning(pid), `${name}: pid ${pid}`).toBe(false);
  }
  expect(output).toContain('killed 2 test server process(es) left running');
});
