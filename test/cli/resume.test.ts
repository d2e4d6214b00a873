/**
 * `bucket get -o` continues a cut-off download: the bytes received are kept in
 * `.<file>.<sha256>.part`, and the same command asks for the rest with Range and If-Range —
 * through a real connection that is cut, against a real server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUCKET_BIN } from '../helpers/server-process.js';
import { createKey } from '../helpers/server.js';
import { sha256 } from '../helpers/hash.js';
import { cliServer, runCli } from './run.js';
import { tcpProxy } from '../helpers/proxy.js';

const MiB = 1024 * 1024;

/** Resolves once `path` has at least one byte, or `child` has exited. */
async function firstBytesOf(path: string, child: ChildProcess): Promise<void> {
  while (((await stat(path).catch(() => null))?.size ?? 0) === 0) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('bucket get -o continues a cut-off download', () => {
  const cli = cliServer();
  let env: { BUCKET_URL: string; BUCKET_KEY: string };
  let test = 0;

  /** A fresh directory per test, so that its listing shows only that test's files. */
  const newDir = async () => mkdtemp(join(cli.dir, `t${++test}-`));
  const put = async (target: string, content: Buffer | string, name: string) => {
    const file = join(cli.dir, name);
    await writeFile(file, content);
    const result = await runCli(['put', target, file], { env });
    expect(result.code).toBe(0);
  };
  const partialOf = (out: string, contentSha: string) =>
    join(dirname(out), `.${basename(out)}.${contentSha}.part`);
  /** A checkpoint of `size` random bytes, uploaded, and where a test downloads it to. */
  const checkpoint = async (name: string, size: number) => {
    const content = randomBytes(size);
    const target = `ai_avatar/model_checkpoint/resume/${name}`;
    await put(target, content, name);
    const downloads = await newDir();
    const out = join(downloads, name);
    return { content, target, downloads, out, partial: partialOf(out, sha256(content)) };
  };

  beforeAll(async () => {
    const { key } = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    env = cli.as(key);
  });

  it('keeps the bytes of a cut connection and continues from them', async () => {
    const { content, target, downloads, out, partial } = await checkpoint('cut.ckpt', 10 * MiB);
    const cutAfter = 3 * MiB;
    const cutting = await tcpProxy(cli.server.url, { after: cutAfter, then: 'cut' });
    try {
      const cut = await runCli(['get', target, '-o', out], {
        env: { ...env, BUCKET_URL: cutting.url },
      });
      expect(cut.code).toBe(1);
      expect(cut.stderr).toMatch(
        new RegExp(`^bucket: the download was cut off after \\d+ of ${content.length} bytes`),
      );
      expect(cut.stderr).toContain(`kept in ${partial}: run the same command again to continue`);
    } finally {
      await cutting.close();
    }
    expect(existsSync(out)).toBe(false);
    const kept = await readFile(partial);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(cutAfter);
    expect(kept.equals(content.subarray(0, kept.length))).toBe(true);

    const resumed = await runCli(['get', target, '-o', out], { env });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(
      `resuming ${out} at ${kept.length} of ${content.length} bytes`,
    );
    expect(resumed.stdout).toContain(`saved ${target} v1 to ${out}`);
    expect(sha256(await readFile(out))).toBe(sha256(content));
    expect(await readdir(downloads)).toEqual(['cut.ckpt']);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 1],
  ] as const)('keeps the bytes received when stopped by %s, and exits %i', async (signal, code) => {
    const { content, target, downloads, out, partial } = await checkpoint(
      `stopped-${signal}.ckpt`,
      4 * MiB,
    );
    const stalling = await tcpProxy(cli.server.url, { after: MiB, then: 'stall' });
    try {
      const child = spawn(process.execPath, [BUCKET_BIN, 'get', target, '-o', out], {
        env: { ...process.env, ...env, BUCKET_URL: stalling.url },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      await firstBytesOf(partial, child);
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(stderr).toContain(`(interrupted by ${signal}); the `);
      expect(stderr).toContain(`kept in ${partial}: run the same command again to continue`);
    } finally {
      await stalling.close();
    }
    const kept = await readFile(partial);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.equals(content.subarray(0, kept.length))).toBe(true);

    const resumed = await runCli(['get', target, '-o', out], { env });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resuming ${out} at ${kept.length} of ${content.length}`);
    expect(sha256(await readFile(out))).toBe(sha256(content));
    expect(await readdir(downloads)).toEqual([basename(out)]);
  });

  it('downloads the current version whole when the partial is of an older one', async () => {
    const target = 'ai_avatar/avatar_config/resume/face.json';
    const v1 = JSON.stringify({ layers: Array.from({ length: 20_000 }, (_, i) => i) });
    const v2 = JSON.stringify({ layers: Array.from({ length: 20_000 }, (_, i) => i * 2) });
    await put(target, v1, 'face-v1.json');
    const downloads = await newDir();
    const out = join(downloads, 'face.json');
    const oldPartial = partialOf(out, sha256(v1));
    await writeFile(oldPartial, v1.slice(0, 1000));
    await put(target, v2, 'face-v2.json');

    const get = await runCli(['get', target, '-o', out], { env });
    expect(get.code).toBe(0);
    expect(get.stderr).not.toContain('resuming');
    expect(get.stdout).toContain(`saved ${target} v2 to ${out}`);
    expect(await readFile(out, 'utf8')).toBe(v2);
    expect(await readdir(downloads)).toEqual(['face.json']);

    // The same partial still continues the version it is of, when that version is asked for.
    await writeFile(oldPartial, v1.slice(0, 1000));
    const old = await runCli(['get', target, '--version', '1', '-o', out], { env });
    expect(old.code).toBe(0);
    expect(old.stderr).toContain(`resuming ${out} at 1000 of ${v1.length} bytes`);
    expect(await readFile(out, 'utf8')).toBe(v1);
    expect(await readdir(downloads)).toEqual(['face.json']);
  });

  it('discards a corrupt partial after the integrity check fails; a rerun succeeds', async () => {
    const { content, target, downloads, out, partial } = await checkpoint(
      'corrupt.ckpt',
      256 * 1024,
    );
    await writeFile(partial, randomBytes(1000));

    const failed = await runCli(['get', target, '-o', out], { env });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`resuming ${out} at 1000 of ${content.length} bytes`);
    expect(failed.stderr).toMatch(/^bucket: integrity check failed: /m);
    expect(await readdir(downloads)).toEqual([]);

    const rerun = await runCli(['get', target, '-o', out], { env });
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).not.toContain('resuming');
    expect(sha256(await readFile(out))).toBe(sha256(content));
  });

  it('starts again when the partial is as long as the content or longer', async () => {
    const { content, target, downloads, out, partial } = await checkpoint('long.ckpt', 4096);
    await writeFile(partial, Buffer.concat([content, randomBytes(10)]));

    const get = await runCli(['get', target, '-o', out], { env });
    expect(get.code).toBe(0);
    expect(get.stderr).not.toContain('resuming');
    expect(sha256(await readFile(out))).toBe(sha256(content));
    expect(await readdir(downloads)).toEqual(['long.ckpt']);
  });

  it('--no-resume ignores a partial and downloads from zero', async () => {
    const { content, target, downloads, out, partial } = await checkpoint('fresh.ckpt', 256 * 1024);
    // Not the content's bytes: continuing from them would fail the integrity check.
    await writeFile(partial, randomBytes(1000));

    const get = await runCli(['get', target, '-o', out, '--no-resume'], { env });
    expect(get.code).toBe(0);
    expect(get.stderr).not.toContain('resuming');
    expect(sha256(await readFile(out))).toBe(sha256(content));
    expect(await readdir(downloads)).toEqual(['fresh.ckpt']);
  });
});
