/**
 * `bucket versions` and `bucket ls` on contents that are gone (SPEC §8): a version erased for its
 * data subject is marked as such, as a tombstone is marked (deleted), instead of looking readable.
 */
import { describe, expect, it } from 'vitest';
import { client, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('purged versions in the CLI', () => {
  const cli = cliServer();

  it('marks an erased version in versions and its artifact in ls', async () => {
    const { key } = await createKey(cli.server, { kind: 'product', product: 'gurukul' });
    const gurukul = client(cli.server.url, key);
    const path = '/v1/artifacts/gurukul/user_progress/u77/p1.json';
    const put = await gurukul('PUT', path, {
      body: JSON.stringify({ lesson: 3 }),
      headers: { 'content-type': 'application/json', 'x-bucket-meta-subject': 'user:u77' },
    });
    expect(put.status).toBe(201);
    const kept = await gurukul('PUT', '/v1/artifacts/gurukul/user_progress/u78/p1.json', {
      body: JSON.stringify({ lesson: 4 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(kept.status).toBe(201);
    const erased = await runCli(['subjects', 'erase', 'user:u77', '--reason', 'Art. 17'], {
      env: cli.owner,
    });
    expect(erased.code, erased.stderr).toBe(0);
    expect((await gurukul('GET', path)).status).toBe(410);

    const history = await runCli(['versions', 'gurukul/user_progress/u77/p1.json'], {
      env: cli.as(key),
    });
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(
      /^v1\s+\S+\s+-\s+\(erased\) erasure at \S+, audit entry \d+\s+key_\w+$/m,
    );

    const listed = await runCli(['ls', 'gurukul', '--all'], { env: cli.as(key) });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      /^\S+\s+\(erased\)\s+v1\s+gurukul\/user_progress\/u77\/p1\.json$/m,
    );
    expect(listed.stdout).toMatch(/^\S+\s+\d+\s+v1\s+gurukul\/user_progress\/u78\/p1\.json$/m);

    const json = await runCli(['ls', 'gurukul', '--json'], { env: cli.as(key) });
    const { items } = JSON.parse(json.stdout) as { items: { name: string; purged?: unknown }[] };
    expect(items.find((item) => item.name === 'u77/p1.json')?.purged).toMatchObject({
      reason: 'erasure',
      auditIndex: expect.any(Number),
    });
    expect(items.find((item) => item.name === 'u78/p1.json')).not.toHaveProperty('purged');
  });
});
