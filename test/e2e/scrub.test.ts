/**
 * The integrity scrub (SPEC §9), on either backend: a clean Bucket passes and records the
 * checkpoint it verified to; a flipped byte in a blob, an inline content changed in the database,
 * a missing blob and a tampered audit entry each fail the scrub, open an incident and switch the
 * Bucket to read_only; a scrub survives a restart as a record (failed when it was interrupted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/hash.js';
import { liveSql } from '../helpers/live-sql.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const BLOB = '/v1/artifacts/ai_avatar/model_checkpoint/scrub/big.ckpt';
const INLINE = '/v1/artifacts/ai_avatar/avatar_config/scrub/small.json';
const CONTENT = Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => i % 251));
const FAST = { scrubThrottle: { share: 1, bytesPerSecond: 0 } };

interface ScrubAnswer {
  id: string;
  status: string;
  checked: { contents: number; entries: number; versions: number };
  problems: { code: string; message: string }[];
  checkpoint: { size: number; rootHash: string } | null;
  finishedAt: string | null;
}

async function scrubToEnd(server: InProcessTestServer, key = server.ownerKey) {
  const api = client(server.url, key);
  const started = await api('POST', '/v1/governance/scrub');
  expect(started.status, JSON.stringify(started.json)).toBe(202);
  expect(started.json).toMatchObject({ status: 'running' });
  return waitFor(server, started.json.id as string);
}

async function waitFor(server: InProcessTestServer, id: string): Promise<ScrubAnswer> {
  const owner = client(server.url, server.ownerKey);
  for (let attempt = 0; attempt < 600; attempt++) {
    const answer = await owner('GET', `/v1/governance/scrub/${id}`);
    expect(answer.status).toBe(200);
    if (answer.json.status !== 'running') return answer.json as ScrubAnswer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`scrub ${id} did not finish`);
}

async function openIncidents(server: InProcessTestServer) {
  const owner = client(server.url, server.ownerKey);
  return (await owner('GET', '/v1/governance/incidents?status=open')).json.incidents as {
    id: string;
    kind: string;
    evidence: Record<string, unknown>;
  }[];
}

/** Resolves every open incident and returns the Bucket to normal, as the owner would. */
async function recover(server: InProcessTestServer): Promise<void> {
  const owner = client(server.url, server.ownerKey);
  for (const incident of await openIncidents(server)) {
    const resolved = await owner('POST', `/v1/governance/incidents/${incident.id}/resolve`, {
      body: { resolution: 'repaired' },
    });
    expect(resolved.status).toBe(200);
  }
  const normal = await owner('POST', '/v1/governance/mode', {
    body: { mode: 'normal', reason: 'repaired' },
  });
  expect(normal.status).toBe(200);
}

async function overwriteBlob(server: InProcessTestServer, bytes: Buffer, digest: string) {
  const writer = await server.bucket.blobs.createWriter();
  await writer.write(bytes);
  await writer.commit(digest);
}

describe('the integrity scrub', () => {
  let server: InProcessTestServer;
  let key: string;

  beforeAll(async () => {
    server = await startTestServer({ bucket: FAST });
    key = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
    const api = client(server.url, key);
    const big = await api('PUT', BLOB, {
      body: CONTENT,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(big.status).toBe(201);
    expect((await api('PUT', INLINE, { body: { look: 'calm' } })).status).toBe(201);
  });
  afterAll(async () => server?.dispose());

  it('passes on a clean Bucket, records its checkpoint, and an executor may start one', async () => {
    const executor = (await createKey(server, { kind: 'executor' })).key;
    const scrub = await scrubToEnd(server, executor);
    expect(scrub.status).toBe('passed');
    expect(scrub.problems).toEqual([]);
    expect(scrub.checked.contents).toBe(2);
    expect(scrub.checked.versions).toBe(2);
    expect(scrub.checked.entries).toBeGreaterThan(0);
    expect(scrub.checkpoint?.size).toBeGreaterThan(0);
    expect((await server.bucket.scrub.lastPassed())?.id).toBe(scrub.id);
    // The next one starts from that checkpoint: it reads only the entries written since.
    const next = await scrubToEnd(server);
    expect(next.status).toBe('passed');
    expect(next.checked.entries).toBeLessThan(scrub.checkpoint?.size ?? 0);
    expect(await openIncidents(server)).toEqual([]);
    const product = await client(server.url, key)('POST', '/v1/governance/scrub');
    expect(product.status).toBe(403);
  });

  it('fails on a blob with a flipped byte: an integrity incident, read_only', async () => {
    const digest = sha256(CONTENT);
    const flipped = Buffer.from(CONTENT);
    flipped[4321] = (flipped[4321] as number) ^ 0x01;
    await overwriteBlob(server, flipped, digest);
    const scrub = await scrubToEnd(server);
    expect(scrub.status).toBe('failed');
    expect(scrub.problems.map((p) => p.code)).toContain('content_mismatch');
    expect(scrub.problems[0]?.message).toContain('scrub/big.ckpt');
    const [incident] = await openIncidents(server);
    expect(incident).toMatchObject({ kind: 'integrity', evidence: { scrubId: scrub.id } });
    const owner = client(server.url, server.ownerKey);
    expect((await owner('GET', '/v1/governance/mode')).json).toMatchObject({
      mode: 'read_only',
      incidentId: incident?.id,
    });
    const write = await client(server.url, key)('PUT', INLINE, { body: { look: 'new' } });
    expect(write.json.error.code).toBe('bucket_read_only');
    // A scrub is an oversight read: it runs in read_only.
    await overwriteBlob(server, CONTENT, digest);
    expect((await scrubToEnd(server)).status).toBe('passed');
    await recover(server);
  });

  it('fails on a missing blob', async () => {
    const digest = sha256(CONTENT);
    expect(await server.bucket.blobs.removeIfOlder(digest, Date.now() + 3_600_000)).toBe(true);
    const scrub = await scrubToEnd(server);
    expect(scrub.status).toBe('failed');
    expect(scrub.problems.map((p) => p.code)).toContain('content_unreadable');
    expect((await openIncidents(server))[0]?.kind).toBe('integrity');
    await overwriteBlob(server, CONTENT, digest);
    await recover(server);
  });

  it('fails on an inline content changed in the database', async () => {
    const update =
      'UPDATE versions SET inline_content = ? ' +
      "WHERE product = 'ai_avatar' AND name = 'scrub/small.json' AND version = 1";
    await liveSql(server, update, [Buffer.from('{"look":"evil"}')]);
    const scrub = await scrubToEnd(server);
    expect(scrub.status).toBe('failed');
    expect(scrub.problems.map((p) => p.code)).toContain('content_mismatch');
    expect(JSON.stringify(scrub)).not.toContain('evil');
    expect((await openIncidents(server))[0]?.kind).toBe('integrity');
    await liveSql(server, update, [Buffer.from(JSON.stringify({ look: 'calm' }))]);
    await recover(server);
  });

  it('fails on an audit entry changed after the last scrubbed checkpoint: an audit incident', async () => {
    expect((await scrubToEnd(server)).status).toBe('passed');
    const api = client(server.url, key);
    expect((await api('GET', INLINE)).status).toBe(200);
    const size = await server.bucket.metadata.auditSize();
    const stored = await server.bucket.metadata.auditEntry(size - 1);
    if (!stored) throw new Error('no entry');
    const changed = Buffer.from(
      stored.canonical.toString('utf8').replace('"allow":true', '"allow":false'),
    );
    expect(changed.equals(stored.canonical)).toBe(false);
    await liveSql(server, 'UPDATE audit_entries SET canonical = ? WHERE idx = ?', [
      changed,
      size - 1,
    ]);
    const scrub = await scrubToEnd(server);
    expect(scrub.status).toBe('failed');
    expect(scrub.problems.map((p) => p.code)).toContain('leaf_hash_mismatch');
    const incidents = await openIncidents(server);
    expect(incidents.map((i) => i.kind)).toContain('audit');
    await liveSql(server, 'UPDATE audit_entries SET canonical = ? WHERE idx = ?', [
      stored.canonical,
      size - 1,
    ]);
    await recover(server);
  });

  it('answers 404 for an unknown scrub', async () => {
    const owner = client(server.url, server.ownerKey);
    const missing = await owner('GET', '/v1/governance/scrub/scr_nothing');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('scrub_not_found');
  });
});

describe('a scrub across a restart', () => {
  it('is failed as abandoned when the node stopped during it, and is still answered', async () => {
    // 10 KiB/s over a 300 KiB blob: the scrub is still running when the node stops.
    let server = await startTestServer({ bucket: { scrubThrottle: { bytesPerSecond: 10_240 } } });
    try {
      const key = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
      const put = await client(server.url, key)('PUT', BLOB, {
        body: CONTENT,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(put.status).toBe(201);
      const owner = client(server.url, server.ownerKey);
      const started = await owner('POST', '/v1/governance/scrub');
      expect(started.status).toBe(202);
      const again = await owner('POST', '/v1/governance/scrub');
      expect(again.status).toBe(409);
      expect(again.json.error.code).toBe('scrub_running');
      // A scheduled look meanwhile starts nothing and is not an error.
      expect(await server.bucket.scrub.begin('system', { scheduled: true })).toBeNull();
      await server.stop();
      // A crash leaves its row `running`: the next start fails it too.
      await liveSql(
        server,
        'INSERT INTO scrubs (id, status, started_at, finished_at, started_by, checked, problems) ' +
          "VALUES ('scr_crashed', 'running', '2026-01-01T00:00:00.000Z', NULL, 'system', " +
          '\'{"contents":0,"entries":0,"versions":0}\', \'[]\')',
      );
      server = await startTestServer({
        dataDir: server.dataDir,
        env: { BUCKET_OWNER_KEY: server.ownerKey },
        ...(server.backend ? { backend: server.backend } : {}),
        bucket: FAST,
      });
      for (const id of [started.json.id as string, 'scr_crashed']) {
        const answer = await waitFor(server, id);
        expect(answer.status, id).toBe('failed');
        expect(answer.problems.map((p) => p.code)).toEqual(['scrub_abandoned']);
        expect(answer.finishedAt).not.toBeNull();
      }
      // Abandoned scrubs are not findings: no incident, and a new scrub passes.
      expect(await openIncidents(server)).toEqual([]);
      expect((await scrubToEnd(server)).status).toBe('passed');
    } finally {
      await server.dispose();
    }
  });
});
