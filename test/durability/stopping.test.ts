/**
 * Stopping the server as an operator does: SIGTERM to what the README starts (`npm start`, whose
 * script runs under a shell) stops the Bucket itself, gracefully; and a stop that a request keeps
 * from finishing exits after BUCKET_STOP_TIMEOUT_S, naming the request it cut off.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stalledUpload } from '../helpers/http.js';
import { SCALE_OUT } from '../helpers/scaleout.js';
import { REPO_ROOT, startServerProcess } from '../helpers/server-process.js';
import { createKey, serverEnv } from '../helpers/server.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('stopping the server', () => {
  it('stops the Bucket itself when the shell `npm start` runs is sent SIGTERM', async () => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    // The start script as npm runs it (`sh -c`), its build step left out (the suite built dist).
    const script = manifest.scripts.start.replace('npm run build', 'true');
    expect(script).not.toBe(manifest.scripts.start);
    const dataDir = await mkdtemp(join(tmpdir(), 'bucket-test-'));
    const shell = spawn('sh', ['-c', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...serverEnv(dataDir, null) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    shell.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    shell.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => shell.once('exit', () => resolve()));
    let pid = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        shell.stdout.on('data', () => /listening on/.test(output) && resolve());
        shell.once('exit', () => reject(new Error(`the server exited:\n${output}`)));
      });
      pid = Number((await readFile(join(dataDir, 'bucket.pid'), 'utf8')).trim());
      shell.kill('SIGTERM');
      await exited;
      expect(output).toMatch(/SIGTERM: finishing in-flight requests, then stopping/);
      expect(alive(pid)).toBe(false);
    } finally {
      if (pid !== 0 && alive(pid)) process.kill(pid, 'SIGKILL');
      shell.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  /**
   * A server started with `env` (BUCKET_STOP_TIMEOUT_S=1) is sent SIGTERM while an upload that
   * sent its headers and one byte, then nothing, holds a write slot: its exit code and output.
   */
  async function stopDuringUpload(env: Record<string, string>, path: string) {
    const server = await startServerProcess({ env: { BUCKET_STOP_TIMEOUT_S: '1', ...env } });
    try {
      const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
      const upload = stalledUpload(server.url, key, path);
      // In flight once it holds its write slot (the gate decided its headers).
      for (let i = 0; ; i++) {
        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        if (/^bucket_writes_in_flight 1$/m.test(metrics)) break;
        if (i > 600) throw new Error('the upload never held a write slot');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await server.kill('SIGTERM');
      upload.close();
      return { exitCode: server.process.exitCode, output: server.output() };
    } finally {
      await server.dispose();
    }
  }

  it.skipIf(SCALE_OUT)('exits 1 with BUCKET_WORKERS when a worker cut an upload off', async () => {
    const path = '/v1/artifacts/ai_avatar/model_checkpoint/stop/worker-cut.bin';
    const { exitCode, output } = await stopDuringUpload({ BUCKET_WORKERS: '2' }, path);
    expect(exitCode).toBe(1);
    expect(output).toMatch(
      new RegExp(`worker \\d+: stopping took over 1 s .*unanswered: PUT ${path} \\(req_`),
    );
  });

  it('exits after BUCKET_STOP_TIMEOUT_S, naming the upload it cut off', async () => {
    const path = '/v1/artifacts/ai_avatar/model_checkpoint/stop/never-ends.bin';
    const { exitCode, output } = await stopDuringUpload({}, path);
    expect(exitCode).toBe(1);
    expect(output).toMatch(
      new RegExp(
        'stopping took over 1 s \\(BUCKET_STOP_TIMEOUT_S\\): exiting with 1 request\\(s\\) ' +
          `unanswered: PUT ${path} \\(req_`,
      ),
    );
  });
});
