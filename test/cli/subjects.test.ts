/**
 * `bucket subjects export` (SPEC §8 DSAR) against a real server, as a user runs it: the export
 * to stdout and to a file (0600, the subject's personal data), the summary on stderr, content for
 * the owner only, and its help; `bucket subjects erase` (Art. 17): the report, as text or JSON.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { client, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket subjects export', () => {
  const cli = cliServer();
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function written(subject: string): Promise<void> {
    const { key } = await createKey(cli.server, { kind: 'core' });
    const core = client(cli.server.url, key);
    for (const n of [1, 2]) {
      const put = await core('PUT', '/v1/artifacts/core/basket_config/cli/subject.json', {
        body: JSON.stringify({ strategy: 'x', n }),
        headers: { 'content-type': 'application/json', 'x-bucket-meta-subject': subject },
      });
      expect(put.status).toBeLessThan(300);
    }
  }

  it('streams the export to stdout with the summary on stderr', async () => {
    await written('user:cli-1');
    const run = await runCli(['subjects', 'export', 'user:cli-1'], { env: cli.owner });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.version ?? 'summary')).toEqual([1, 2, 'summary']);
    expect(lines[1].json).toEqual({ strategy: 'x', n: 2 });
    expect(lines[2].summary).toMatchObject({ versions: 2, products: ['core'] });
    expect(run.stderr).toMatch(/subject user:cli-1: 2 version\(s\), \d+ bytes, products: core/);
  });

  it('writes to a 0600 file with --out; an auditor’s export carries no content', async () => {
    await written('user:cli-2');
    const dir = await mkdtemp(join(tmpdir(), 'bucket-dsar-'));
    dirs.push(dir);
    const out = join(dir, 'dsar.ndjson');
    const owned = await runCli(['subjects', 'export', 'user:cli-2', '--out', out], {
      env: cli.owner,
    });
    expect(owned.code, owned.stderr).toBe(0);
    expect(owned.stdout).toBe('');
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(await readFile(out, 'utf8')).toContain('"json":{"strategy":"x","n":1}');

    const { key } = await createKey(cli.server, { kind: 'auditor' });
    const audited = await runCli(['subjects', 'export', 'user:cli-2'], { env: cli.as(key) });
    expect(audited.code, audited.stderr).toBe(0);
    expect(audited.stdout).not.toMatch(/"json"|"base64"/);
    expect(audited.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('fails with the server’s refusal and explains itself in --help', async () => {
    const refused = await runCli(['subjects', 'export', 'has space'], { env: cli.owner });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/400|invalid|pattern/i);
    const help = await runCli(['subjects', 'export', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--out <file>/);
    expect(help.stdout).toMatch(/Art\. 15/);
  });
});

describe('bucket subjects erase', () => {
  const cli = cliServer();

  it('erases a subject and prints the report, or it as JSON', async () => {
    const { key } = await createKey(cli.server, { kind: 'product', product: 'gurukul' });
    const gurukul = client(cli.server.url, key);
    for (const name of ['a', 'b']) {
      const put = await gurukul('PUT', `/v1/artifacts/gurukul/user_progress/cli/${name}.json`, {
        body: JSON.stringify({ name }),
        headers: { 'content-type': 'application/json', 'x-bucket-meta-subject': 'user:cli-9' },
      });
      expect(put.status).toBe(201);
    }
    const run = await runCli(['subjects', 'erase', 'user:cli-9', '--reason', 'Art. 17 #9'], {
      env: cli.owner,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /erasure erasure_\S+ of subject user:cli-9: 2 version\(s\) erased, 0 withheld; key destroyed/,
    );
    expect(run.stdout).toContain('gurukul/user_progress/cli/a.json v1');
    const read = await gurukul('GET', '/v1/artifacts/gurukul/user_progress/cli/a.json');
    expect(read.status).toBe(410);

    const again = await runCli(
      ['subjects', 'erase', 'user:cli-9', '--reason', 'repeat', '--json'],
      {
        env: cli.owner,
      },
    );
    expect(again.code, again.stderr).toBe(0);
    // Its key was destroyed by the first erasure: this one destroyed none, and says so.
    expect(JSON.parse(again.stdout)).toMatchObject({
      subject: 'user:cli-9',
      erased: [],
      keyDestroyed: false,
      keyFound: false,
    });
    const { id } = JSON.parse(again.stdout) as { id: string };
    const shown = await runCli(['subjects', 'erasure', id, '--json'], { env: cli.owner });
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(JSON.parse(again.stdout));
    const missing = await runCli(['subjects', 'erasure', 'erasure_none'], { env: cli.owner });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/404|erasure_not_found/);
  });

  it('says no key was destroyed for a subject that never had data', async () => {
    const run = await runCli(['subjects', 'erase', 'user:4711', '--reason', 'Art. 17 #10'], {
      env: cli.owner,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /: 0 version\(s\) erased, 0 withheld; no key destroyed: the subject had no live key /,
    );
    expect(run.stdout).not.toMatch(/key destroyed;/);
  });

  it('needs --reason, names refusals, and explains itself in --help', async () => {
    const missing = await runCli(['subjects', 'erase', 'user:cli-9'], { env: cli.owner });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--reason/);
    const { key } = await createKey(cli.server, { kind: 'auditor' });
    const refused = await runCli(['subjects', 'erase', 'user:x', '--reason', 'r'], {
      env: cli.as(key),
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/403|forbidden/i);
    const help = await runCli(['subjects', 'erase', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Art\. 17/);
    expect(help.stdout).toMatch(/--json/);
  });
});
