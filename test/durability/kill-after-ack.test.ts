/**
 * Issue 2, "Durability": an acknowledged write survives `kill -9` of the server right after the
 * answer. The server is SIGKILLed from the client's 'response' handler, the instant the status line
 * of a 201 arrives, then restarted on the same data directory.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { putObserved, temporariesOf } from '../helpers/durability.js';
import { sha256 } from '../helpers/hash.js';
import { client, createKey } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

interface Write {
  readonly path: string;
  readonly body: Buffer;
  readonly contentType: string;
}

const jsonWrite = (path: string, size: number): Write => {
  const filler = randomBytes(Math.ceil(size / 2)).toString('hex');
  return {
    path,
    body: Buffer.from(JSON.stringify({ path, filler })),
    contentType: 'application/json',
  };
};

const binaryWrite = (path: string, size: number): Write => ({
  path,
  body: randomBytes(size),
  contentType: 'application/octet-stream',
});

/** Reads `path?version=n` and its versions list; the content must hash to `expected`. */
async function expectVersion(
  server: ServerProcess,
  key: string,
  path: string,
  version: number,
  expected: string,
): Promise<void> {
  const api = client(server.url, key);
  const read = await api('GET', `${path}?version=${version}`);
  expect(read.status, `GET ${path}?version=${version}`).toBe(200);
  expect(sha256(read.bytes), `content of ${path} v${version}`).toBe(expected);
  expect(read.headers.get('x-bucket-sha256')).toBe(expected);
  const versions = await api('GET', `${path}/versions`);
  expect(versions.status).toBe(200);
  expect(versions.json.versions).toContainEqual(
    expect.objectContaining({ version, sha256: expected, tombstone: false }),
  );
}

const dataDirs: string[] = [];
afterAll(async () => {
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
});

describe('kill -9 right after an acknowledged write', () => {
  it('keeps every acknowledged version of a sequence of writes, inline and blob', async () => {
    let server = await startServerProcess();
    dataDirs.push(server.dataDir);
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const writes: (Write & { version: number })[] = [
      { ...jsonWrite('/v1/artifacts/ai_avatar/avatar_config/persona/a.json', 100), version: 1 },
      { ...jsonWrite('/v1/artifacts/ai_avatar/avatar_config/persona/a.json', 200), version: 2 },
      // JSON over the inline threshold: buffered for inspection, then stored as a blob.
      { ...jsonWrite('/v1/artifacts/ai_avatar/iteration_history/run/1', 300_000), version: 1 },
      {
        ...binaryWrite('/v1/artifacts/ai_avatar/model_checkpoint/ckpt/1.bin', 1 << 20),
        version: 1,
      },
      { ...binaryWrite('/v1/artifacts/ai_avatar/model_checkpoint/ckpt/2.bin', 10), version: 1 },
    ];
    for (const [index, write] of writes.entries()) {
      const last = index === writes.length - 1;
      const answer = await putObserved(
        server.url,
        key,
        write.path,
        write.body,
        write.contentType,
        (status) => {
          // The instant the last acknowledgement arrives, before its body is even read.
          if (last && (status === 200 || status === 201)) server.process.kill('SIGKILL');
        },
      );
      expect(answer?.status, write.path).toBe(write.version === 1 ? 201 : 200);
    }
    await server.kill('SIGKILL');
    expect(server.process.signalCode).toBe('SIGKILL');

    server = await startServerProcess({ dataDir: server.dataDir });
    try {
      const owner = client(server.url, server.ownerKey);
      for (const write of writes) {
        await expectVersion(server, key, write.path, write.version, sha256(write.body));
        // Its audit entry committed with it: the allowed write, naming the version it created.
        const artifact = write.path.slice('/v1/artifacts/'.length);
        const audit = await owner('GET', `/v1/audit/entries?artifact=${artifact}&decision=allow`);
        expect(audit.json.entries.map((e: { entry: unknown }) => e.entry)).toContainEqual(
          expect.objectContaining({ version: write.version, sha256: sha256(write.body) }),
        );
      }
      expect(await temporariesOf(server)).toEqual([]);
    } finally {
      await server.kill('SIGKILL');
    }
  });

  it('keeps every acknowledged write when writes race the kill, round after round', async () => {
    // Three kill moments (after the 1st, 2nd and 3rd acknowledgement); more rounds repeat them.
    const ROUNDS = 3;
    let server = await startServerProcess();
    dataDirs.push(server.dataDir);
    const dataDir = server.dataDir;
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const acknowledged: Write[] = [];
    const attempted: Write[] = [];

    for (let round = 0; round < ROUNDS; round++) {
      const writes: Write[] = [];
      for (let i = 0; i < 4; i++) {
        writes.push(jsonWrite(`/v1/artifacts/ai_avatar/avatar_config/r${round}/small-${i}`, 64));
        writes.push(
          binaryWrite(`/v1/artifacts/ai_avatar/model_checkpoint/r${round}/big-${i}`, 1 << 20),
        );
      }
      writes.push(jsonWrite(`/v1/artifacts/ai_avatar/iteration_history/r${round}/h`, 200_000));
      attempted.push(...writes);
      // Round r kills on the (r+1)-th acknowledgement, so the kill lands at different moments.
      const killAfter = round + 1;
      let acks = 0;
      const roundAcks: Write[] = [];
      await Promise.all(
        writes.map((write) =>
          putObserved(server.url, key, write.path, write.body, write.contentType, (status) => {
            if (status !== 201) return;
            roundAcks.push(write);
            if (++acks === killAfter) server.process.kill('SIGKILL');
          }),
        ),
      );
      await server.kill('SIGKILL');
      expect(roundAcks.length, `round ${round}`).toBeGreaterThanOrEqual(killAfter);
      acknowledged.push(...roundAcks);

      server = await startServerProcess({ dataDir });
      // The file store removes its temporaries at start. An S3 temporary may belong to an upload
      // another node still runs, so the object store keeps it for an hour (docs/OPERATIONS.md).
      if (!server.backend) expect(await temporariesOf(server), `round ${round}`).toEqual([]);
      // Every write acknowledged so far, in this round or an earlier one, is there and intact.
      for (const write of acknowledged) {
        await expectVersion(server, key, write.path, 1, sha256(write.body));
      }
    }

    try {
      const api = client(server.url, key);
      // Writes cut off by a kill are either absent or whole: never a version with other bytes.
      for (const write of attempted) {
        const read = await api('GET', write.path);
        if (read.status === 404) continue;
        expect(read.status, write.path).toBe(200);
        expect(sha256(read.bytes), write.path).toBe(sha256(write.body));
      }
      // Everything the listing shows reads back with the hash the listing claims.
      const listing = await api('GET', '/v1/artifacts/ai_avatar?limit=1000');
      expect(listing.status).toBe(200);
      expect(listing.json.items.length).toBeGreaterThanOrEqual(acknowledged.length);
      for (const item of listing.json.items) {
        const read = await api('GET', `/v1/artifacts/ai_avatar/${item.class}/${item.name}`);
        expect(read.status).toBe(200);
        expect(sha256(read.bytes)).toBe(item.sha256);
      }
      // SPEC §10: an event exists iff its change committed — one `created` per stored artifact
      // (so per acknowledged write), none for a write a kill cut off, cursors without gaps.
      const events = (await client(server.url, server.ownerKey)('GET', '/v1/events?limit=1000'))
        .json.events as { id: string; type: string; subject: string }[];
      expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
      const created = events
        .filter((e) => e.type === 'bucket.artifact.created')
        .map((e) => e.subject)
        .sort();
      const stored = listing.json.items
        .map((item: { class: string; name: string }) => `ai_avatar/${item.class}/${item.name}`)
        .sort();
      expect(created).toEqual(stored);
      // The server still takes writes after five crashes.
      const after = await api('PUT', '/v1/artifacts/ai_avatar/avatar_config/after-crashes', {
        body: { ok: true },
      });
      expect(after.status).toBe(201);
    } finally {
      await server.kill('SIGKILL');
    }
  });
});
