/**
 * Data subjects on two nodes (SPEC §8: "in scale-out every node is given the same key-encryption
 * key"): a content sealed on one node reads back on the other, whole and by Range; an erasure on
 * the other makes the erased content 410 on the first, and the subject's next write there gets a
 * new key (a write racing the erasure: test/unit/storage/subjects-contract.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { client, createKey, startTestServer } from '../helpers/server.js';
import { twoNodes, twoNodesAvailable } from '../helpers/two-nodes.js';

const available = await twoNodesAvailable();
const PATH = '/v1/artifacts/ai_avatar/model_checkpoint/nodes/sealed.bin';

describe.runIf(available)('sealed subject contents on two nodes', () => {
  const nodes = twoNodes();

  it('reads on B what A sealed; an erasure on B holds for A', async () => {
    const { nodeA, nodeB } = nodes;
    const { key } = await createKey(nodeA, { kind: 'product', product: 'gurukul' });
    const avatarKey = (await createKey(nodeA, { kind: 'product', product: 'ai_avatar' })).key;
    const body = Buffer.alloc(200_000, 'subject-data-');
    const sealed = await client(nodeA.url, avatarKey)('PUT', PATH, {
      body,
      headers: { 'content-type': 'application/octet-stream', 'x-bucket-meta-subject': 'subj:n' },
    });
    expect(sealed.status).toBe(201);
    const onB = client(nodeB.url, avatarKey);
    expect((await onB('GET', PATH)).bytes.equals(body)).toBe(true);
    const ranged = await onB('GET', PATH, { headers: { range: 'bytes=65530-65545' } });
    expect(ranged.bytes.equals(body.subarray(65530, 65546))).toBe(true);

    const progress = '/v1/artifacts/gurukul/user_progress/nodes/p.json';
    const gurukulA = client(nodeA.url, key);
    const headers = { 'content-type': 'application/json', 'x-bucket-meta-subject': 'subj:p' };
    expect((await gurukulA('PUT', progress, { body: '{"p":1}', headers })).status).toBe(201);
    const erased = await client(nodeB.url, nodeA.ownerKey)('POST', '/v1/governance/erasures', {
      body: { subject: 'subj:p', reason: 'Art. 17' },
    });
    expect(erased.status).toBe(201);
    expect(erased.json.keyDestroyed).toBe(true);
    expect((await gurukulA('GET', progress)).status).toBe(410);
    // A new write of the subject on A gets a new key, and reads back on B.
    const again = '/v1/artifacts/gurukul/user_progress/nodes/p2.json';
    expect((await gurukulA('PUT', again, { body: '{"p":2}', headers })).status).toBe(201);
    expect((await client(nodeB.url, key)('GET', again)).json).toEqual({ p: 2 });
  });

  it('refuses to start a node given another key-encryption key, naming the setting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bucket-kek-'));
    try {
      const other = join(dir, 'other.key');
      await writeFile(other, randomBytes(32), { mode: 0o600 });
      const refused = await startTestServer({
        backend: nodes.backend,
        env: { BUCKET_OWNER_KEY: nodes.nodeA.ownerKey, BUCKET_MASTER_KEY_FILE: other },
      }).catch((thrown: unknown) => thrown);
      expect(refused).toBeInstanceOf(Error);
      expect(String((refused as Error).message)).toMatch(/BUCKET_MASTER_KEY_FILE/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
