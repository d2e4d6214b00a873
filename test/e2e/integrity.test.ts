/**
 * Integrity on read (SPEC §9): a whole read re-hashes what it serves. A flipped byte in a blob is
 * cut before the last byte; a missing blob and a changed inline content are refused before any
 * byte with 503 `integrity_failure` (never a 500); each opens an integrity incident and switches
 * the Bucket to read_only. Tampered through the stores themselves, on either backend.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/hash.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const BLOB = '/v1/artifacts/ai_avatar/model_checkpoint/integrity/big.ckpt';
const INLINE = '/v1/artifacts/ai_avatar/avatar_config/integrity/small.json';
/** Larger than one chunk of any blob store's read: the first bytes go out before the digest is known. */
const CONTENT = Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 5 }, (_, i) => i % 251));
/** Within one chunk of the file blob store's hashed read (1 MiB). */
const SMALL_BLOB = '/v1/artifacts/ai_avatar/model_checkpoint/integrity/small.ckpt';
const SMALL_CONTENT = Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => (i * 7) % 253));

describe('integrity on read', () => {
  let server: InProcessTestServer;
  let key: string;

  beforeAll(async () => {
    server = await startTestServer();
    key = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
    const api = client(server.url, key);
    const big = await api('PUT', BLOB, {
      body: CONTENT,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(big.status).toBe(201);
    expect((await api('PUT', INLINE, { body: { look: 'calm' } })).status).toBe(201);
    const small = await api('PUT', SMALL_BLOB, {
      body: SMALL_CONTENT,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(small.status).toBe(201);
  });
  afterAll(async () => server?.dispose());

  /** The open integrity incident about `digest`, once the Bucket has recorded it. */
  async function incidentAbout(digest: string) {
    const owner = client(server.url, server.ownerKey);
    for (let attempt = 0; attempt < 50; attempt++) {
      const open = (await owner('GET', '/v1/governance/incidents?status=open')).json.incidents;
      const found = open.find(
        (incident: { evidence: { sha256?: string } }) => incident.evidence.sha256 === digest,
      );
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no incident about ${digest}`);
  }

  /** Resolves the incident and returns the Bucket to normal, as the owner would. */
  async function recover(incidentId: string): Promise<void> {
    const owner = client(server.url, server.ownerKey);
    const resolved = await owner('POST', `/v1/governance/incidents/${incidentId}/resolve`, {
      body: { resolution: 'restored' },
    });
    expect(resolved.status).toBe(200);
    await owner('POST', '/v1/governance/mode', { body: { mode: 'normal', reason: 'restored' } });
  }

  it('cuts a blob with a flipped byte before its last byte, and goes read_only', async () => {
    const digest = sha256(CONTENT);
    const flipped = Buffer.from(CONTENT);
    flipped[1234] = (flipped[1234] as number) ^ 0x01;
    // The blob store's writer takes the address it is given: the bytes behind it change.
    await overwriteBlob(server, flipped, digest);

    const response = await fetch(server.url + BLOB, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(CONTENT.length));
    const received = await response
      .arrayBuffer()
      .then((bytes) => bytes.byteLength)
      .catch(() => -1);
    // Either the read failed, or fewer bytes than announced arrived: never the whole.
    expect(received).not.toBe(CONTENT.length);

    const incident = await incidentAbout(digest);
    expect(incident).toMatchObject({
      kind: 'integrity',
      evidence: { name: 'integrity/big.ckpt', version: 1, problem: 'digest_mismatch' },
    });
    const owner = client(server.url, server.ownerKey);
    expect((await owner('GET', '/v1/governance/mode')).json).toMatchObject({
      mode: 'read_only',
      incidentId: incident.id,
    });
    const write = await client(server.url, key)('PUT', INLINE, { body: { look: 'new' } });
    expect(write.json.error.code).toBe('bucket_read_only');

    await overwriteBlob(server, CONTENT, digest);
    await recover(incident.id);
    const again = await client(server.url, key)('GET', BLOB);
    expect(again.status).toBe(200);
    expect(sha256(again.bytes)).toBe(digest);
  });

  it('refuses a small blob with a flipped byte in the error envelope, never 500 or whole', async () => {
    const digest = sha256(SMALL_CONTENT);
    const flipped = Buffer.from(SMALL_CONTENT);
    flipped[4321] = (flipped[4321] as number) ^ 0x80;
    await overwriteBlob(server, flipped, digest);

    const response = await fetch(server.url + SMALL_BLOB, {
      headers: { authorization: `Bearer ${key}` },
    });
    const received = await response
      .arrayBuffer()
      .then((bytes) => Buffer.from(bytes))
      .catch(() => null);
    if (!server.backend) {
      // The file blob store hashes a whole read before its first byte goes out when the content
      // fits one chunk: the answer is the error itself, without the content's headers.
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('x-bucket-sha256')).toBeNull();
      expect(JSON.parse(String(received)).error.code).toBe('integrity_failure');
    } else if (response.status === 200) {
      expect(received?.length ?? -1).not.toBe(SMALL_CONTENT.length);
    } else {
      expect(response.status).toBe(503);
    }
    const incident = await incidentAbout(digest);
    expect(incident.evidence).toMatchObject({ problem: 'digest_mismatch', storage: 'blob' });
    await overwriteBlob(server, SMALL_CONTENT, digest);
    await recover(incident.id);
  });

  it('refuses a missing blob with 503 integrity_failure before any byte, never 500', async () => {
    const digest = sha256(CONTENT);
    expect(await server.bucket.blobs.removeIfOlder(digest, Date.now() + 3_600_000)).toBe(true);
    const api = client(server.url, key);
    const variants: Record<string, string>[] = [{}, { range: 'bytes=0-99' }];
    for (const headers of variants) {
      const answer = await api('GET', BLOB, { headers });
      expect(answer.status, JSON.stringify(headers)).toBe(503);
      expect(answer.json.error.code).toBe('integrity_failure');
    }
    const incident = await incidentAbout(digest);
    expect(incident.evidence).toMatchObject({ problem: 'missing', storage: 'blob' });
    await overwriteBlob(server, CONTENT, digest);
    await recover(incident.id);
  });

  it('refuses an inline content changed in the database before any byte', async () => {
    const digest = sha256(Buffer.from(JSON.stringify({ look: 'calm' })));
    await server.stop();
    await changeInline(server, Buffer.from('{"look":"evil"}'));
    server = await startTestServer({
      dataDir: server.dataDir,
      env: { BUCKET_OWNER_KEY: server.ownerKey },
      ...(server.backend ? { backend: server.backend } : {}),
    });
    const answer = await client(server.url, key)('GET', INLINE);
    expect(answer.status).toBe(503);
    expect(answer.json.error.code).toBe('integrity_failure');
    expect(answer.bytes.toString()).not.toContain('evil');
    const incident = await incidentAbout(digest);
    expect(incident.evidence).toMatchObject({ storage: 'inline', problem: 'digest_mismatch' });
    expect(
      (await client(server.url, server.ownerKey)('GET', '/v1/governance/mode')).json.mode,
    ).toBe('read_only');
  });
});

async function overwriteBlob(
  server: InProcessTestServer,
  bytes: Buffer,
  digest: string,
): Promise<void> {
  const writer = await server.bucket.blobs.createWriter();
  await writer.write(bytes);
  await writer.commit(digest);
}

/** Changes the inline bytes of INLINE's version 1 in the stopped server's database. */
async function changeInline(server: InProcessTestServer, bytes: Buffer): Promise<void> {
  const update =
    'UPDATE versions SET inline_content = $1 ' +
    "WHERE product = 'ai_avatar' AND name = 'integrity/small.json' AND version = 1";
  const url = server.backend?.env['BUCKET_DATABASE_URL'];
  if (url) {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      await db.query(update, [bytes]);
    } finally {
      await db.end();
    }
    return;
  }
  const db = new Database(join(server.dataDir, 'bucket.db'));
  try {
    db.prepare(update.replace('$1', '?')).run(bytes);
  } finally {
    db.close();
  }
}
