/**
 * SPEC §15: an atomic batch is all or none, also across a crash. The server is killed (SIGKILL)
 * while an atomic batch of 200 items waits to commit — the store's write lock held from outside,
 * as in crash-before-commit.test.ts — and restarted on the same data: none of the items, no
 * event of them; the same batch sent again is written whole.
 */
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { holdWriteLock } from '../helpers/durability.js';
import { client, createKey } from '../helpers/server.js';
import { startServerProcess } from '../helpers/server-process.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const ITEMS = 200;
const body = Array.from({ length: ITEMS }, (_, i) =>
  JSON.stringify({
    op: 'put',
    product: 'ai_assistant',
    class: 'metadata',
    name: `crash/atomic/${i}.json`,
    json: { i },
  }),
).join('\n');

describe('an atomic batch cut by a crash', () => {
  it('leaves none of its items, and goes through whole when sent again', async () => {
    let server = await startServerProcess();
    dirs.push(server.dataDir);
    const { dataDir } = server;
    const { key } = await createKey(server, { kind: 'product', product: 'ai_assistant' });
    const owner = client(server.url, server.ownerKey);
    const before = Number((await owner('GET', '/v1/events?limit=1000')).json.nextCursor);

    const lock = await holdWriteLock(server);
    const sent = fetch(`${server.url}/v1/batch?atomic=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
      body,
    }).then(
      (answer) => answer.status,
      () => null,
    );
    try {
      // Every item decided and waiting on the one transaction that the held lock keeps out.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await server.kill('SIGKILL');
    } finally {
      await lock.release();
    }
    const status = await sent;
    expect(status === null || status >= 500, `status ${String(status)}`).toBe(true);

    server = await startServerProcess({
      dataDir,
      ...(server.backend ? { backend: server.backend } : {}),
    });
    try {
      const api = client(server.url, key);
      const listed = await api('GET', '/v1/artifacts/ai_assistant?prefix=crash/atomic/&limit=1000');
      expect(listed.json.items).toEqual([]);
      const events = (
        await client(server.url, server.ownerKey)('GET', `/v1/events?since=${before}&limit=1000`)
      ).json.events;
      expect(
        events.filter((event: { type: string }) => event.type.startsWith('bucket.artifact.')),
      ).toEqual([]);

      const again = await api('POST', '/v1/batch?atomic=true', {
        body,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(again.status, again.bytes.toString().slice(0, 500)).toBe(200);
      expect(again.json.summary).toEqual({ succeeded: ITEMS, failed: 0 });
      const after = await api('GET', '/v1/artifacts/ai_assistant?prefix=crash/atomic/&limit=1000');
      expect(after.json.items).toHaveLength(ITEMS);
    } finally {
      await server.kill('SIGKILL');
    }
  });

  it('is found whole or not at all after kills at several moments of its run', async () => {
    let server = await startServerProcess();
    dirs.push(server.dataDir);
    const { dataDir } = server;
    const { key } = await createKey(server, { kind: 'product', product: 'ai_assistant' });
    for (const [round, delayMs] of [10, 40, 80, 160].entries()) {
      const roundBody = body.replaceAll('crash/atomic/', `crash/round${round}/`);
      const sent = fetch(`${server.url}/v1/batch?atomic=true`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
        body: roundBody,
      }).catch(() => null);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await server.kill('SIGKILL');
      await sent;
      server = await startServerProcess({ dataDir });
      const listed = await client(server.url, key)(
        'GET',
        `/v1/artifacts/ai_assistant?prefix=crash/round${round}/&limit=1000`,
      );
      expect([0, ITEMS], `killed after ${delayMs} ms`).toContain(listed.json.items.length);
    }
    await server.kill('SIGKILL');
  });
});
