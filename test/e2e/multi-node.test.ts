/**
 * Issue 6: two server processes on one PostgreSQL + Redis + s3rver are nodes of one Bucket —
 * written on A, read on B; a key revoked or a policy changed on A applies on B within a second;
 * concurrent writers on both make one audit tree whose checkpoints from either node are
 * consistent; the global write rate holds across both together; kill -9 of A mid-upload leaves
 * nothing partial, and `bucket audit verify` passes on the shared stores.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNote, parseVerifierKey } from '../../src/audit/note.js';
import { verifyConsistency } from '../../src/audit/proof.js';
import { runCli } from '../cli/run.js';
import { startUpload } from '../helpers/durability.js';
import { sleep } from '../helpers/http.js';
import { sha256 } from '../helpers/hash.js';
import { paced, timed } from '../helpers/load.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { createScaleOutBackend, type ScaleOutBackend } from '../helpers/scaleout.js';
import { client, createKey } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { serviceAvailable } from '../helpers/services.js';

const available = (await serviceAvailable('postgres')) && (await serviceAvailable('redis'));
const JSON_HEADERS = { 'content-type': 'application/json' };
const BINARY = { 'content-type': 'application/octet-stream' };

type Api = ReturnType<typeof client>;

/** Polls `check` until it holds; returns the milliseconds it took, or null past `limitMs`. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started <= limitMs) {
    if (await check()) return performance.now() - started;
    await sleep(20);
  }
  return null;
}

describe.runIf(available)('two nodes on one PostgreSQL + Redis + S3', () => {
  let s3: TestS3;
  let backend: ScaleOutBackend;
  let nodeA: ServerProcess;
  let nodeB: ServerProcess;
  let ownerA: Api;
  let ownerB: Api;
  let avatarKey: { key: string; id: string };

  beforeAll(async () => {
    s3 = await startS3();
    backend = await createScaleOutBackend(s3.endpoint);
    nodeA = await startServerProcess({ backend });
    // The owner key is in the shared database; node B is told it rather than printing one.
    nodeB = await startServerProcess({ backend, env: { BUCKET_OWNER_KEY: nodeA.ownerKey } });
    ownerA = client(nodeA.url, nodeA.ownerKey);
    ownerB = client(nodeB.url, nodeB.ownerKey);
    avatarKey = await createKey(nodeA, { kind: 'product', product: 'ai_avatar' });
  });
  afterAll(async () => {
    await nodeA?.dispose();
    await nodeB?.dispose();
    await backend?.dispose();
    await s3?.stop();
  });

  it('reads on B what was written on A, inline and in the object store', async () => {
    const onA = client(nodeA.url, avatarKey.key);
    const onB = client(nodeB.url, avatarKey.key);
    const config = JSON.stringify({ voice: 'warm' });
    const large = randomBytes(300_000);
    expect(
      (
        await onA('PUT', '/v1/artifacts/ai_avatar/avatar_config/shared.json', {
          body: config,
          headers: JSON_HEADERS,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await onA('PUT', '/v1/artifacts/ai_avatar/model_checkpoint/shared.ckpt', {
          body: large,
          headers: BINARY,
        })
      ).status,
    ).toBe(201);
    const small = await onB('GET', '/v1/artifacts/ai_avatar/avatar_config/shared.json');
    expect(small.bytes.toString()).toBe(config);
    const big = await onB('GET', '/v1/artifacts/ai_avatar/model_checkpoint/shared.ckpt');
    expect(sha256(big.bytes)).toBe(sha256(large));
    const range = await onB('GET', '/v1/artifacts/ai_avatar/model_checkpoint/shared.ckpt', {
      headers: { range: 'bytes=100-199' },
    });
    expect(range.status).toBe(206);
    expect(range.bytes.equals(large.subarray(100, 200))).toBe(true);
  });

  it('refuses on B, within a second, a key revoked on A', async () => {
    const key = await createKey(nodeA, { kind: 'product', product: 'ai_avatar' });
    const onB = client(nodeB.url, key.key);
    // B has the key in its authentication cache before the revocation.
    expect((await onB('GET', '/v1/artifacts/ai_avatar')).status).toBe(200);
    expect((await ownerA('DELETE', `/v1/keys/${key.id}`)).status).toBeLessThan(300);
    const took = await within(
      1000,
      async () => (await onB('GET', '/v1/artifacts/ai_avatar')).status === 401,
    );
    expect(took, 'B still accepted the revoked key after 1 s').not.toBeNull();
  });

  it('applies on B, within a second, a policy changed on A', async () => {
    const { document } = (await ownerA('GET', '/v1/governance/policy')).json;
    const original = document.classes.avatar_config.maxBytes;
    document.classes.avatar_config.maxBytes = 64;
    const changed = await ownerA('PUT', '/v1/governance/policy', {
      body: { document, reason: 'multi-node test' },
    });
    expect(changed.status).toBe(200);
    const onB = client(nodeB.url, avatarKey.key);
    const body = JSON.stringify({ note: 'x'.repeat(100) });
    try {
      const took = await within(1000, async () => {
        const answer = await onB('PUT', '/v1/artifacts/ai_avatar/avatar_config/too-big.json', {
          body,
          headers: JSON_HEADERS,
        });
        return answer.status === 413;
      });
      expect(took, 'B still used the old policy after 1 s').not.toBeNull();
      expect((await ownerB('GET', '/v1/governance/policy')).json.version).toBe(
        changed.json.version,
      );
    } finally {
      document.classes.avatar_config.maxBytes = original;
      await ownerA('PUT', '/v1/governance/policy', { body: { document, reason: 'restore' } });
      await sleep(600);
    }
  });

  it('makes one audit tree of concurrent writes on both nodes, with consistent checkpoints', async () => {
    const apis = [client(nodeA.url, avatarKey.key), client(nodeB.url, avatarKey.key)];
    const first = (await ownerA('GET', '/v1/audit/checkpoint')).json;
    // As many at once as one product may hold (productWriteShare: half of the 100 slots).
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        apis[i % 2]!('PUT', `/v1/artifacts/ai_avatar/avatar_config/concurrent/${i}.json`, {
          body: JSON.stringify({ i }),
          headers: JSON_HEADERS,
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    const indices = answers.map((a) => a.json.audit.leafIndex as number);
    expect(new Set(indices).size).toBe(indices.length);

    const fromA = (await ownerA('GET', '/v1/audit/checkpoint')).json;
    const fromB = (await ownerB('GET', '/v1/audit/checkpoint')).json;
    const keyA = (await ownerA('GET', '/v1/audit/public-key')).json;
    const keyB = (await ownerB('GET', '/v1/audit/public-key')).json;
    expect(keyB.vkey).toBe(keyA.vkey);
    const verifier = parseVerifierKey(keyA.vkey);
    openNote(fromA.note, verifier);
    openNote(fromB.note, verifier);
    expect(Math.min(fromA.size, fromB.size)).toBeGreaterThan(Math.max(...indices));

    const pairs: [typeof first, typeof first][] = [
      [first, fromA],
      [first, fromB],
      fromA.size <= fromB.size ? [fromA, fromB] : [fromB, fromA],
    ];
    for (const [older, newer] of pairs) {
      // Proofs from either node prove the other node's checkpoints.
      for (const owner of [ownerA, ownerB]) {
        const proof = (
          await owner('GET', `/v1/audit/proof/consistency?from=${older.size}&to=${newer.size}`)
        ).json;
        verifyConsistency(
          older.size,
          newer.size,
          Buffer.from(older.rootHash, 'hex'),
          Buffer.from(newer.rootHash, 'hex'),
          proof.proof.map((h: string) => Buffer.from(h, 'hex')),
        );
      }
    }
  });

  timed('holds the global write rate across both nodes together, within 15 %', async () => {
    const limit = 40;
    const { document } = (await ownerA('GET', '/v1/governance/policy')).json;
    const original = document.limits.writesPerSecond;
    document.limits.writesPerSecond = limit;
    expect(
      (await ownerA('PUT', '/v1/governance/policy', { body: { document, reason: 'rate test' } }))
        .status,
    ).toBe(200);
    await sleep(1200); // both nodes have the policy; a fresh window
    try {
      const apis = [client(nodeA.url, avatarKey.key), client(nodeB.url, avatarKey.key)];
      // 3 s at 3× the limit, alternating nodes.
      const { answers, seconds } = await paced(limit * 3, 3000, (i) =>
        apis[i % 2]!('PUT', `/v1/artifacts/ai_avatar/model_checkpoint/rate/${i}.bin`, {
          body: Buffer.from(`rate ${i}`),
          headers: BINARY,
        }),
      );
      const accepted = answers.filter((a) => a.status === 201).length;
      expect(answers.filter((a) => a.status !== 201 && a.status !== 429)).toEqual([]);
      const rate = accepted / seconds;
      expect(rate).toBeGreaterThanOrEqual(limit * 0.85);
      expect(rate).toBeLessThanOrEqual(limit * 1.15);
    } finally {
      document.limits.writesPerSecond = original;
      await ownerA('PUT', '/v1/governance/policy', { body: { document, reason: 'restore' } });
      await sleep(600);
    }
  });

  it('leaves nothing of an upload whose node is killed mid-way, and the shared log verifies', async () => {
    const path = '/v1/artifacts/ai_avatar/model_checkpoint/killed/mid-upload.ckpt';
    const upload = await startUpload(nodeA.url, avatarKey.key, path, {
      declared: 20 * 1024 * 1024,
      sent: 4 * 1024 * 1024,
    });
    await sleep(200);
    await nodeA.kill('SIGKILL');
    await upload.abandon();

    const onB = client(nodeB.url, avatarKey.key);
    expect((await onB('GET', path)).status).toBe(404);
    const entries = (
      await ownerB(
        'GET',
        `/v1/audit/entries?artifact=${encodeURIComponent(path.slice('/v1/artifacts/'.length))}`,
      )
    ).json.entries;
    for (const { entry } of entries) expect(entry.version).toBeUndefined();

    // Node B keeps writing while the log is verified from the shared stores.
    const writes = Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        onB('PUT', `/v1/artifacts/ai_avatar/avatar_config/during-verify/${i}.json`, {
          body: JSON.stringify({ i }),
          headers: JSON_HEADERS,
        }),
      ),
    );
    const verified = await runCli(['audit', 'verify'], {
      env: { ...backend.env, BUCKET_DATA_DIR: nodeA.dataDir },
    });
    expect(verified.code, verified.stderr + verified.stdout).toBe(0);
    expect((await writes).every((a) => a.status === 201)).toBe(true);
  });
});
