/**
 * The README's two-minute tour runs as written where it names audit entries: the curl part from
 * the integration to the inclusion proof, then the CLI part's offline verification and `bucket
 * audit prove` of the first aria.json write — whose index the tour takes from that write's
 * receipt, never from a number that other entries (the policy's, the keys') would shift.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUCKET_BIN, REPO_ROOT } from '../helpers/server-process.js';
import { cliServer } from './run.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** The ```sh block that follows `marker` in the README. */
function blockAfter(marker: string): string {
  const at = README.indexOf(marker);
  const open = README.indexOf('```sh\n', at);
  const close = README.indexOf('\n```', open);
  if (at < 0 || open < 0 || close < 0) throw new Error(`README: no sh block after "${marker}"`);
  return README.slice(open + '```sh\n'.length, close);
}

/** Lines a test server sets up itself: the data directory, the owner key, the URL, a scratch dir. */
const SETUP = /^(export BUCKET_DATA_DIR|OWNER=|alias bucket|cd "|export BUCKET_URL)/;
const KEY_LINE = 'export BUCKET_KEY=bkt_…';

function bash(
  script: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // `bucket` as the tour's alias makes it; never spawnSync: the server is in this process.
    const child = spawn(
      'bash',
      ['-e', '-c', `bucket() { "${process.execPath}" "${BUCKET_BIN}" "$@"; }\n${script}`],
      { cwd, env: { ...process.env, ...env } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the README tour', () => {
  const cli = cliServer();

  it('proves the first aria.json write with the index of its receipt', async () => {
    const curlPart = blockAfter('In a second terminal').split('\n');
    const keyLine = curlPart.findIndex((line) => line.startsWith(KEY_LINE));
    expect(keyLine, `the tour sets the key with "${KEY_LINE}"`).toBeGreaterThan(0);
    const env = { BUCKET_URL: cli.server.url, OWNER: cli.server.ownerKey };
    const setup = curlPart.slice(0, keyLine).filter((line) => !SETUP.test(line));
    const created = await bash(setup.join('\n'), cli.dir, env);
    expect(created.code, created.stderr).toBe(0);
    const key = /"key":"(bkt_[^"]+)"/.exec(created.stdout)?.[1];
    expect(key, created.stdout).toBeDefined();

    const cliPart = blockAfter('The same with the CLI');
    const offline = cliPart.slice(cliPart.indexOf('curl -s $BUCKET_URL/v1/audit/export'));
    const script = [...curlPart.slice(keyLine + 1), offline].join('\n');
    const run = await bash(script, cli.dir, { ...env, BUCKET_KEY: key ?? '' });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);

    const receipt = JSON.parse(readFileSync(join(cli.dir, 'aria-v1.json'), 'utf8')) as {
      audit: { leafIndex: number; leafHash: string };
    };
    // The curl proof is of that entry too.
    expect(run.stdout).toContain(`{"index":${receipt.audit.leafIndex},"size":`);
    expect(run.stdout).toMatch(
      new RegExp(
        `^entry ${receipt.audit.leafIndex}: in the signed tree \\(leaf ${receipt.audit.leafHash}, .*\\): ALLOW 201 CREATE`,
        'm',
      ),
    );
    expect(run.stdout).toMatch(/^consistent: +not checked: nothing was saved/m);
  });
});
