/**
 * The history `bucket audit verify` tests run against (test/cli/audit-verify.test.ts): two versions
 * of a config, a checkpoint blob, a tombstone, a denied write and a policy change, written to a real
 * server; then its full export, one product's export and its public key, saved to files in `work`.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { client, createKey, type TestServer } from '../helpers/server.js';
import { sha256 } from '../helpers/hash.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

export interface AuditFixture {
  /** The entry of the denied write, and of the first and second version of a.json. */
  deniedIndex: number;
  aV1Index: number;
  aV2Index: number;
  blobSha256: string;
  origin: string;
  exportFile: string;
  productExportFile: string;
  vkeyFile: string;
}

export async function writeAuditHistory(server: TestServer, work: string): Promise<AuditFixture> {
  const facts = {} as AuditFixture;
  const owner = client(server.url, server.ownerKey);
  const assistant = client(
    server.url,
    (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
  );
  const avatar = client(
    server.url,
    (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
  );
  // Core's basket_config is the class that allows DELETE.
  const core = client(server.url, (await createKey(server, { kind: 'core' })).key);

  const a = '/v1/artifacts/ai_avatar/avatar_config/a.json';
  const v1 = await avatar('PUT', a, { body: '{"v":1}', headers: JSON_HEADERS });
  expect(v1.status, v1.bytes.toString()).toBe(201);
  facts.aV1Index = v1.json.audit.leafIndex;
  const v2 = await avatar('PUT', a, { body: '{"v":2}', headers: JSON_HEADERS });
  expect(v2.status, v2.bytes.toString()).toBe(200);
  facts.aV2Index = v2.json.audit.leafIndex;
  expect((await avatar('GET', a)).status).toBe(200);

  const big = randomBytes(100 * 1024);
  facts.blobSha256 = sha256(big);
  const blob = await avatar('PUT', '/v1/artifacts/ai_avatar/model_checkpoint/big.ckpt', {
    body: big,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(blob.status, blob.bytes.toString()).toBe(201);

  const basket = '/v1/artifacts/core/basket_config/gone.json';
  expect((await core('PUT', basket, { body: '{}', headers: JSON_HEADERS })).status).toBe(201);
  expect((await core('DELETE', basket)).status).toBe(204);

  const denied = await assistant('PUT', '/v1/artifacts/ai_avatar/metadata/x.json', {
    body: '{}',
    headers: JSON_HEADERS,
  });
  expect(denied.status).toBe(403);
  const deniedEntries = await owner('GET', '/v1/audit/entries?decision=deny');
  facts.deniedIndex = deniedEntries.json.entries.at(-1).index;

  // A policy change: its entry carries the version, its hash and the JSON Patch (SPEC §2).
  const { document } = (await owner('GET', '/v1/governance/policy')).json;
  document.classes.metadata.maxBytes = 8192;
  const policy = await owner('PUT', '/v1/governance/policy', {
    body: { document, reason: 'a smaller metadata maximum' },
  });
  expect(policy.status, policy.bytes.toString()).toBe(200);

  const checkpoint = await owner('GET', '/v1/audit/checkpoint');
  expect(checkpoint.status).toBe(200);
  facts.origin = checkpoint.json.origin;

  const exported = await owner('GET', '/v1/audit/export');
  expect(exported.status).toBe(200);
  const exportFile = join(work, 'audit.jsonl');
  await writeFile(exportFile, exported.bytes);
  const ownExport = await avatar('GET', '/v1/audit/export');
  expect(ownExport.status).toBe(200);
  const productExportFile = join(work, 'avatar.jsonl');
  await writeFile(productExportFile, ownExport.bytes);
  const publicKey = await owner('GET', '/v1/audit/public-key');
  const vkeyFile = join(work, 'audit.vkey');
  await writeFile(vkeyFile, `${publicKey.json.vkey}\n`);
  return { ...facts, exportFile, productExportFile, vkeyFile };
}
