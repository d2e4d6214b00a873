import { beforeAll, describe, expect, it } from 'vitest';
import { raiseRates } from '../helpers/limits.js';
import { client, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

const ITEMS = 250;
const itemName = (index: number) => `batch/${String(index).padStart(3, '0')}.bin`;

describe('bucket ls / versions / rm', () => {
  const cli = cliServer();
  let env: { BUCKET_URL: string; BUCKET_KEY: string };

  beforeAll(async () => {
    // 250 writes, 10 at a time: faster than the default 1,000 writes/s (SPEC §2.3).
    await raiseRates(cli.server);
    const { key } = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    env = cli.as(key);
    // Created over HTTP directly: 250 CLI processes would only measure process start-up.
    const api = client(cli.server.url, key);
    const indexes = Array.from({ length: ITEMS }, (_, index) => index);
    for (let start = 0; start < ITEMS; start += 10) {
      await Promise.all(
        indexes.slice(start, start + 10).map(async (index) => {
          const answer = await api(
            'PUT',
            `/v1/artifacts/ai_avatar/model_checkpoint/${itemName(index)}`,
            {
              body: Buffer.from(`item ${index}`),
              headers: { 'content-type': 'application/octet-stream' },
            },
          );
          if (answer.status !== 201) throw new Error(`PUT ${index}: ${answer.status}`);
        }),
      );
    }
  });

  const listedNames = (stdout: string) =>
    stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(/\s+/).at(-1));

  it('ls --all follows every page to the end', async () => {
    const result = await runCli(
      [
        'ls',
        'ai_avatar',
        '--class',
        'model_checkpoint',
        '--prefix',
        'batch/',
        '--limit',
        '100',
        '--all',
      ],
      { env },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const expected = Array.from(
      { length: ITEMS },
      (_, index) => `ai_avatar/model_checkpoint/${itemName(index)}`,
    );
    expect(listedNames(result.stdout)).toEqual(expected);
    expect(result.stdout.split('\n')[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z\s+6\s+v1\s+ai_avatar\/model_checkpoint\/batch\/000\.bin$/,
    );
  });

  it('ls without --all prints one page and says how to continue', async () => {
    const first = await runCli(['ls', 'ai_avatar', '--prefix', 'batch/', '--limit', '100'], {
      env,
    });
    expect(first.code).toBe(0);
    expect(listedNames(first.stdout)).toHaveLength(100);
    const cursor = /--cursor '([^']+)'/.exec(first.stderr)?.[1];
    expect(cursor).toBeDefined();

    const second = await runCli(
      ['ls', 'ai_avatar', '--prefix', 'batch/', '--limit', '100', '--cursor', cursor ?? ''],
      { env },
    );
    expect(second.code).toBe(0);
    expect(listedNames(second.stdout)[0]).toBe(`ai_avatar/model_checkpoint/${itemName(100)}`);
  });

  it('ls --all --json gives every item in the server answer shape', async () => {
    const result = await runCli(['ls', 'ai_avatar', '--prefix', 'batch/', '--all', '--json'], {
      env,
    });
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout);
    expect(answer.nextCursor).toBeNull();
    expect(answer.items).toHaveLength(ITEMS);
    expect(answer.items[0]).toMatchObject({
      class: 'model_checkpoint',
      name: itemName(0),
      version: 1,
      size: 6,
    });
  });

  it('versions lists every version of an artifact', async () => {
    const target = 'ai_avatar/avatar_config/face.json';
    for (const eyes of ['green', 'blue', 'grey']) {
      const put = await runCli(['put', target, '-'], { env, stdin: JSON.stringify({ eyes }) });
      expect(put.code).toBe(0);
    }
    const text = await runCli(['versions', target], { env });
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+CREATED\s+SIZE\s+SHA256\s+CREATED BY$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(['v1', 'v2', 'v3']);

    const json = await runCli(['versions', target, '--json'], { env });
    const { versions } = JSON.parse(json.stdout);
    expect(versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 3]);
    expect(versions[2]).toMatchObject({ size: 15, tombstone: false });
  });

  it('rm on a class that forbids DELETE fails with the denial reasons', async () => {
    // A key of its own: repeated critical denials may suspend a key.
    const { key } = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    const result = await runCli(['rm', `ai_avatar/model_checkpoint/${itemName(7)}`], {
      env: { ...env, BUCKET_KEY: key },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^bucket: forbidden: .*DELETE.* \(request req_\w+\)$/m);
    expect(result.stderr).toMatch(/^ {2}reason: operation_not_allowed: /m);
    expect(result.stderr).toMatch(/^ {2}threat: T3 Data loss \(CRITICAL\): /m);

    const still = await runCli(['get', `ai_avatar/model_checkpoint/${itemName(7)}`], { env });
    expect(still.stdout).toBe('item 7');
  });

  it('rm where the class allows DELETE leaves a tombstone', async () => {
    const { key } = await createKey(cli.server, { kind: 'core' });
    const coreEnv = { ...env, BUCKET_KEY: key };
    const target = 'core/basket_config/nightly.json';
    const put = await runCli(['put', target, '-'], { env: coreEnv, stdin: '{"agents":[]}' });
    expect(put.code).toBe(0);

    const removed = await runCli(['rm', target], { env: coreEnv });
    expect(removed.code).toBe(0);
    expect(removed.stdout.trim()).toBe(`deleted ${target} (tombstone v2; restorable for 90 days)`);

    const history = await runCli(['versions', target], { env: coreEnv });
    expect(history.stdout).toMatch(/^v2\s.*\(deleted\)/m);
    const gone = await runCli(['get', target], { env: coreEnv });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^bucket: artifact_deleted: /m);

    const restored = await runCli(['restore', target], { env: coreEnv });
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(
      new RegExp(`^restored ${target} as v3 sha256=[0-9a-f]{64}$`, 'm'),
    );
    const back = await runCli(['get', target], { env: coreEnv });
    expect(back.code).toBe(0);
    expect(back.stdout).toBe('{"agents":[]}');

    const again = await runCli(['restore', target], { env: coreEnv });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^bucket: not_restorable: /m);
  });
});
