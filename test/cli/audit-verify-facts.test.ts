/**
 * `bucket audit verify` finds tampering that changes what a stored record means, not only its
 * digest (issue 16 item 9): a version's content type, creator, retention or metadata (through the
 * salted facts hash of its entry), the indexed columns of an entry, a policy version's document,
 * a key row inserted, edited or un-revoked by hand. Each case changes a copy of the stopped
 * server's stores with plain SQL — SQLite, or PostgreSQL in the scale-out run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyHash } from '../../src/domain/canonical.js';
import { hashKey } from '../../src/services/keys.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';
import { expectFailure, TamperedStores } from './tamper.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const A = 'ai_avatar/avatar_config/a.json';

describe('bucket audit verify: the facts of stored records', () => {
  let server: TestServer;
  let work: string;
  let stores: TamperedStores;
  const facts = { deniedIndex: 0, productKeyId: '', revokedKeyId: '', document: '' };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'bucket-verify-facts-'));
    server = await startTestServer();
    const owner = client(server.url, server.ownerKey);
    const avatarKey = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    facts.productKeyId = avatarKey.id;
    const avatar = client(server.url, avatarKey.key);
    const headers = { ...JSON_HEADERS, 'x-bucket-meta-source': 'studio' };
    for (const body of ['{"v":1}', '{"v":2}']) {
      const put = await avatar('PUT', `/v1/artifacts/${A}`, { body, headers });
      expect(put.status, put.bytes.toString()).toBeLessThan(300);
    }
    const denied = await avatar('PUT', '/v1/artifacts/gurukul/user_progress/x.json', {
      body: '{}',
      headers: JSON_HEADERS,
    });
    expect(denied.status).toBe(403);
    facts.deniedIndex = (await owner('GET', '/v1/audit/entries?decision=deny')).json.entries.at(
      -1,
    ).index;

    const revoked = await createKey(server, { kind: 'auditor' });
    facts.revokedKeyId = revoked.id;
    expect((await owner('DELETE', `/v1/keys/${revoked.id}`)).status).toBe(200);

    const { document } = (await owner('GET', '/v1/governance/policy')).json;
    document.classes.metadata.maxBytes = 8192;
    const policy = await owner('PUT', '/v1/governance/policy', {
      body: { document, reason: 'a smaller metadata maximum' },
    });
    expect(policy.status, policy.bytes.toString()).toBe(200);
    facts.document = JSON.stringify(document);
    await server.stop();
    stores = new TamperedStores(server, work);
  });
  afterAll(async () => {
    await stores?.dispose();
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const versionFactsChanged = (version: number) =>
    `facts_mismatch: version ${A} v${version}: its recorded facts`;

  it('verifies the untampered stores, policy versions and keys included', async () => {
    const result = await stores.verify(async () => {}, '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ok: true, problemCount: 0, policyVersions: 2 });
    // The bootstrap owner key, the product key, the revoked auditor key.
    expect(report.keys).toBe(3);
  });

  it('names an edited content type', async () => {
    const result = await stores.verify((sql) =>
      sql("UPDATE versions SET content_type = 'text/html' WHERE name = 'a.json' AND version = 1"),
    );
    expectFailure(result, versionFactsChanged(1));
  });

  it('names an edited creator', async () => {
    const result = await stores.verify((sql) =>
      sql("UPDATE versions SET created_by = 'key_owner' WHERE name = 'a.json' AND version = 2"),
    );
    expectFailure(result, versionFactsChanged(2));
  });

  it('names an edited retention', async () => {
    const result = await stores.verify((sql) =>
      sql(
        "UPDATE versions SET retention_mode = 'governance', retention_until = ? " +
          "WHERE name = 'a.json' AND version = 1",
        ['2026-01-01T00:00:00.000Z'],
      ),
    );
    expectFailure(result, versionFactsChanged(1));
  });

  it('names edited metadata', async () => {
    const result = await stores.verify((sql) =>
      sql(`UPDATE versions SET meta = '{"source":"elsewhere"}' WHERE name = 'a.json'`),
    );
    expectFailure(result, versionFactsChanged(1), versionFactsChanged(2));
  });

  it('names a salt removed from a version whose entry commits to its facts', async () => {
    const result = await stores.verify((sql) =>
      sql("UPDATE versions SET facts_salt = NULL WHERE name = 'a.json' AND version = 2"),
    );
    expectFailure(result, `facts_salt_missing: version ${A} v2: the salt of its facts is gone`);
  });

  it('names an entry whose allow column no longer says what its bytes say', async () => {
    const result = await stores.verify((sql) =>
      sql('UPDATE audit_entries SET allow = NOT allow WHERE idx = ?', [facts.deniedIndex]),
    );
    expectFailure(
      result,
      `entry_column_mismatch: entry ${facts.deniedIndex}: column allow is true, its bytes say false`,
    );
  });

  it("names an entry moved to another product's view", async () => {
    const result = await stores.verify((sql) =>
      sql("UPDATE audit_entries SET principal_product = 'gurukul' WHERE idx = ?", [
        facts.deniedIndex,
      ]),
    );
    expectFailure(
      result,
      `entry_column_mismatch: entry ${facts.deniedIndex}: column principal_product is "gurukul", ` +
        'its bytes say "ai_avatar"',
    );
  });

  it('names a policy document edited under its old hash, and one re-hashed', async () => {
    const edited = facts.document.replace('"maxBytes":8192', '"maxBytes":8193');
    expect(edited).not.toBe(facts.document);
    const oldHash = await stores.verify((sql) =>
      sql('UPDATE policy_versions SET document = ? WHERE version = 2', [edited]),
    );
    expectFailure(
      oldHash,
      /policy_hash_mismatch: policy version 2: its document hashes to [0-9a-f]{64}, its recorded hash is/,
      /policy_mismatch: policy version 2: its document hashes to [0-9a-f]{64}, audit entry \d+ recorded/,
    );
    const rehashed = await stores.verify((sql) =>
      sql('UPDATE policy_versions SET document = ?, hash = ? WHERE version = 2', [
        edited,
        policyHash(JSON.parse(edited)),
      ]),
    );
    expectFailure(rehashed, /policy_mismatch: policy version 2: .* audit entry \d+ recorded/);
    expect(rehashed.stderr).not.toContain('policy_hash_mismatch');
  });

  it('names an owner key inserted by hand', async () => {
    const result = await stores.verify((sql) =>
      sql(
        'INSERT INTO keys (id, hash, kind, product, integration_id, name, created_at) ' +
          "VALUES ('key_backdoor', ?, 'owner', NULL, NULL, 'backdoor', ?)",
        [hashKey('bkt_backdoor'), new Date().toISOString()],
      ),
    );
    expectFailure(
      result,
      'key_unaudited: key key_backdoor (owner) has no audit entry that created it',
    );
  });

  it('names a key row given another kind, and a revoked key made active again', async () => {
    const result = await stores.verify(async (sql) => {
      await sql("UPDATE keys SET kind = 'owner', product = NULL WHERE id = ?", [
        facts.productKeyId,
      ]);
      await sql('UPDATE keys SET revoked_at = NULL WHERE id = ?', [facts.revokedKeyId]);
    });
    expectFailure(
      result,
      `key_mismatch: key ${facts.productKeyId} (owner): kind "owner", product null differ from ` +
        'audit entry',
      `key_mismatch: key ${facts.revokedKeyId} (auditor): revoked by audit entry`,
    );
  });
});
