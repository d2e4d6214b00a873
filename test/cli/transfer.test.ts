import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../helpers/server.js';
import { sha256 } from '../helpers/hash.js';
import { cliServer, runCli } from './run.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const TWENTY_MB = 20 * 1024 * 1024;

describe('bucket put / get', () => {
  const cli = cliServer();
  let env: { BUCKET_URL: string; BUCKET_KEY: string };
  let big: Buffer;
  let bigFile: string;

  beforeAll(async () => {
    const { key } = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    env = cli.as(key);
    big = randomBytes(TWENTY_MB);
    bigFile = join(cli.dir, 'big.ckpt');
    await writeFile(bigFile, big);
  });

  it('round-trips a 20 MB file with an equal SHA-256, to a file and to stdout', async () => {
    const put = await runCli(['put', 'ai_avatar/model_checkpoint/avatar/v3.ckpt', bigFile], {
      env,
    });
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    expect(put.stdout.trim()).toBe(
      `created ai_avatar/model_checkpoint/avatar/v3.ckpt v1 sha256=${sha256(big)} size=${TWENTY_MB}`,
    );

    const out = join(cli.dir, 'downloaded.ckpt');
    const saved = await runCli(['get', 'ai_avatar/model_checkpoint/avatar/v3.ckpt', '-o', out], {
      env,
    });
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain(`saved ai_avatar/model_checkpoint/avatar/v3.ckpt v1 to ${out}`);
    expect(sha256(await readFile(out))).toBe(sha256(big));
    // The temporary download file was renamed into place, nothing left beside it.
    expect((await readdir(cli.dir)).sort()).toEqual(['big.ckpt', 'downloaded.ckpt']);

    const piped = await runCli(['get', 'ai_avatar/model_checkpoint/avatar/v3.ckpt'], { env });
    expect(piped.code).toBe(0);
    expect(piped.stdoutBytes.length).toBe(TWENTY_MB);
    expect(sha256(piped.stdoutBytes)).toBe(sha256(big));
  });

  it('uploads JSON from a file and from stdin, with application/json by default', async () => {
    const file = join(cli.dir, 'face.json');
    await writeFile(file, JSON.stringify({ eyes: 'green' }));
    const first = await runCli(['put', 'ai_avatar/avatar_config/face.json', file], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^created ai_avatar\/avatar_config\/face\.json v1 sha256=/);

    const second = await runCli(['put', 'ai_avatar/avatar_config/face.json', '-'], {
      env,
      stdin: JSON.stringify({ eyes: 'blue' }),
    });
    expect(second.stderr).toBe('');
    expect(second.stdout).toMatch(
      /^updated ai_avatar\/avatar_config\/face\.json v2 sha256=\w{64} size=15$/m,
    );

    const current = await runCli(['get', 'ai_avatar/avatar_config/face.json'], { env });
    expect(JSON.parse(current.stdout)).toEqual({ eyes: 'blue' });
    const old = await runCli(['get', 'ai_avatar/avatar_config/face.json', '--version', '1'], {
      env,
    });
    expect(JSON.parse(old.stdout)).toEqual({ eyes: 'green' });
  });

  it('sends metadata and preconditions; --json prints the server answer', async () => {
    const file = join(cli.dir, 'persona.json');
    await writeFile(file, JSON.stringify({ tone: 'warm' }));
    const target = 'ai_avatar/persona_config/tutor.json';
    const put = await runCli(
      ['put', target, file, '--meta', 'source=cli', '--meta', 'Team=avatar', '--json'],
      { env },
    );
    expect(put.code).toBe(0);
    const answer = JSON.parse(put.stdout);
    expect(answer).toMatchObject({
      product: 'ai_avatar',
      class: 'persona_config',
      name: 'tutor.json',
      version: 1,
      contentType: 'application/json',
    });
    const head = await fetch(`${cli.server.url}/v1/artifacts/${target}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${env.BUCKET_KEY}` },
    });
    expect(head.headers.get('x-bucket-meta-source')).toBe('cli');
    expect(head.headers.get('x-bucket-meta-team')).toBe('avatar');

    const exists = await runCli(['put', target, file, '--if-none-match'], { env });
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/^bucket: already_exists: .* \(request req_\w+\)$/m);

    const next = await runCli(['put', target, file, '--if-version', '1'], { env });
    expect(next.code).toBe(0);
    expect(next.stdout).toMatch(/^updated .* v2 /);
    const stale = await runCli(['put', target, file, '--if-version', '1'], { env });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('bucket: version_conflict:');
    expect(stale.stderr).toContain('current version is 2, not 1');
  });

  it('reports a refused upload with the reasons, and get -o leaves no file on failure', async () => {
    // The class takes JSON up to 1 MiB: refused from Content-Length, before the body is read.
    const tooBig = await runCli(
      ['put', 'ai_avatar/avatar_config/huge.json', bigFile, '--content-type', 'application/json'],
      { env },
    );
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toMatch(/^bucket: payload_too_large: .*\(request req_\w+\)$/m);
    expect(tooBig.stderr).toContain('reason: max_bytes:');

    const out = join(cli.dir, 'missing.bin');
    const missing = await runCli(['get', 'ai_avatar/model_checkpoint/nothing-here', '-o', out], {
      env,
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^bucket: \w*not_found: .*\(request req_\w+\)/m);
    expect(existsSync(out)).toBe(false);
  });

  it('streams a large stdin upload past the class limit and reports the 413', async () => {
    const overLimit = Buffer.alloc(1024 * 1024 + 1, 0x20);
    const put = await runCli(['put', 'ai_avatar/avatar_config/over.json', '-'], {
      env,
      stdin: overLimit,
    });
    expect(put.code).toBe(1);
    expect(put.stderr).toContain('bucket: payload_too_large:');
    expect(put.stderr).toMatch(/threat: T5 /);
  });

  it('draws no progress bar when stdout is not a terminal', async () => {
    const put = await runCli(['put', 'ai_avatar/model_checkpoint/piped.ckpt', bigFile], { env });
    expect(put.code).toBe(0);
    const out = join(cli.dir, 'piped.out');
    const get = await runCli(['get', 'ai_avatar/model_checkpoint/piped.ckpt', '-o', out], { env });
    for (const result of [put, get]) {
      expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(1);
      const output = result.stdout + result.stderr;
      for (const drawing of ['\r', '\u001b[', '%']) expect(output).not.toContain(drawing);
    }
  });

  it.skipIf(!hasScript)('draws a progress bar over 10 MB on a terminal', async () => {
    // `script` gives the command a pseudo-terminal; its output is what the user would see.
    const onTerminal = (args: string[]) => runCli(args, { env, terminal: true });
    const put = await onTerminal(['put', 'ai_avatar/model_checkpoint/tty.ckpt', bigFile]);
    expect(put.code).toBe(0);
    expect(put.stdout).toContain('100% | 20.0 MiB of 20.0 MiB');
    expect(put.stdout).toMatch(/created ai_avatar\/model_checkpoint\/tty\.ckpt v1/);

    const out = join(cli.dir, 'tty.out');
    const get = await onTerminal(['get', 'ai_avatar/model_checkpoint/tty.ckpt', '-o', out]);
    expect(get.code).toBe(0);
    expect(get.stdout).toContain('100% | 20.0 MiB of 20.0 MiB');
    expect(sha256(await readFile(out))).toBe(sha256(big));

    const small = join(cli.dir, 'small.bin');
    await writeFile(small, randomBytes(1024));
    const quiet = await onTerminal(['put', 'ai_avatar/model_checkpoint/small.bin', small]);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).not.toContain('%');
  });
});
