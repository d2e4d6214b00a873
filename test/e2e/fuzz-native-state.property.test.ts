/**
 * A refused write changes nothing (SPEC §3, §15): a fast-check property sends PUTs and batches
 * that must be refused — broken JSON, wrong content types, digests that do not match, detector
 * hits, oversized or badly named contents, failed preconditions, atomic batches with one bad
 * item — and holds that afterwards the name has no version, the audit log grew only by denials
 * (at most one per item), no artifact event was emitted, and `<dataDir>/blobs/tmp` is empty.
 * Bounded by FUZZ_RUNS (default 40) and seeded by FUZZ_SEED, like fuzz-native.property.test.ts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NDJSON, ndjson, put } from '../helpers/batch.js';
import { blobTemporaries, eventually } from '../helpers/durability.js';
import {
  client,
  createKey,
  startTestServer,
  withoutEscalation,
  type InProcessTestServer,
} from '../helpers/server.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 40);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_260_517);

/** A write that must be refused: where it goes, as whom, and how (`name` is filled in). */
interface Refusal {
  readonly label: string;
  readonly key: 'assistant' | 'avatar';
  readonly path: (name: string) => string;
  readonly headers: Record<string, string>;
  readonly body: (name: string) => Buffer;
}

const META = (name: string) => `/v1/artifacts/ai_assistant/metadata/${name}`;
const CHECKPOINT = (name: string) => `/v1/artifacts/ai_avatar/model_checkpoint/${name}`;
const JSON_TYPE = { 'content-type': 'application/json' };
const BYTES = { 'content-type': 'application/octet-stream' };
/** Over the 64 KiB kept inline: a blob written through the temporary folder. */
const BIG = Buffer.alloc(200 * 1024, 7);

const refusalArbitrary: fc.Arbitrary<Refusal> = fc.oneof(
  fc
    .constantFrom('{', '{"a":}', '[1,', '\uFEFF{"a":1', '{"a":1}{"b":2}', 'null', '"x"', '[]')
    .map((text) => ({
      label: `metadata ${JSON.stringify(text)}`,
      key: 'assistant' as const,
      path: META,
      headers: JSON_TYPE,
      body: () => Buffer.from(text),
    })),
  fc
    .constantFrom(
      { _id: 1 },
      { $where: 'x' },
      { password: 'hunter2' },
      { url: 'postgres://u:p@h/db' },
      { nested: { __proto__x: 1, constructor: { prototype: 1 } } },
    )
    .map((json) => ({
      label: `metadata ${JSON.stringify(json)}`,
      key: 'assistant' as const,
      path: META,
      headers: JSON_TYPE,
      body: () => Buffer.from(JSON.stringify(json)),
    })),
  fc
    .constantFrom<Record<string, string>>(
      { 'content-type': 'text/plain' },
      { 'x-bucket-sha256': '0'.repeat(64) },
      { 'x-bucket-sha256': 'not hex' },
      { 'x-bucket-if-version': '3' },
      { 'x-bucket-meta-subject': 'a b' },
      { 'x-bucket-meta-sha256': 'x' },
      { 'x-bucket-meta-Bad Key': 'x' },
      { 'x-bucket-meta-big': 'x'.repeat(9000) },
      { 'x-bucket-meta-product': 'ai_avatar' },
    )
    .map((headers) => ({
      label: `metadata with ${JSON.stringify(headers).slice(0, 80)}`,
      key: 'assistant' as const,
      path: META,
      headers: { ...JSON_TYPE, ...headers },
      body: () => Buffer.from('{"a":1}'),
    })),
  fc.constant({
    label: 'metadata over 16 KiB',
    key: 'assistant' as const,
    path: META,
    headers: JSON_TYPE,
    body: () => Buffer.from(`{"pad":"${'x'.repeat(17 * 1024)}"}`),
  }),
  fc.constantFrom('0'.repeat(64), 'f'.repeat(64)).map((digest) => ({
    label: `a 200 KiB checkpoint claiming sha256 ${digest.slice(0, 4)}…`,
    key: 'avatar' as const,
    path: CHECKPOINT,
    headers: { ...BYTES, 'x-bucket-sha256': digest },
    body: () => BIG,
  })),
  fc.constantFrom('1', '7').map((version) => ({
    label: `a 200 KiB checkpoint with x-bucket-if-version ${version}`,
    key: 'avatar' as const,
    path: CHECKPOINT,
    headers: { ...BYTES, 'x-bucket-if-version': version },
    body: () => BIG,
  })),
  fc
    .constantFrom<(name: string) => unknown>(
      (name) => ({ ...put(name, { a: 1 }), product: 'ai_avatar' }),
      (name) => put(name, { _id: 1 }),
      (name) => put(name, { a: 1 }, { sha256: '0'.repeat(64) }),
      (name) => put(name, { a: 1 }, { ifVersion: 4 }),
      (name) => put(`${name}/..`, { a: 1 }),
      (name) => ({ ...put(name, { a: 1 }), json: undefined, base64: '!!' }),
    )
    .map((bad) => ({
      label: `an atomic batch with ${JSON.stringify(bad('n')).slice(0, 100)}`,
      key: 'assistant' as const,
      path: () => '/v1/batch?atomic=true',
      headers: NDJSON,
      body: (name: string) =>
        Buffer.from(ndjson([put(`${name}/first`, { a: 1 }), bad(name), put(name, { b: 2 })])),
    })),
);

describe('a refused write changes nothing', () => {
  let server: InProcessTestServer;
  let owner: ReturnType<typeof client>;
  const keys: Record<string, string> = {};
  let counter = 0;

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    keys['assistant'] = (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key;
    keys['avatar'] = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
    // Detections are CRITICAL (T1, T2): the keys must outlive more than three of them.
    await withoutEscalation(server, 'fuzz test: no escalation');
  });
  afterAll(async () => server?.dispose());

  const latestEvent = async () =>
    Number((await owner('GET', '/v1/events?limit=1000')).json.nextCursor);

  it(`leaves no version, allow entry, artifact event or temporary (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(refusalArbitrary, async (refusal) => {
        const name = `refused/n${++counter}`;
        const eventsBefore = await latestEvent();
        const auditBefore = await server.bucket.audit.size();
        const batch = refusal.path(name).startsWith('/v1/batch');
        const answer = await server.app.inject({
          method: batch ? 'POST' : 'PUT',
          url: refusal.path(name),
          headers: { authorization: `Bearer ${keys[refusal.key]}`, ...refusal.headers },
          payload: refusal.body(name),
        });
        // Read before any other request: reads are decisions with entries of their own.
        const auditAfter = await server.bucket.audit.size();
        const label = `${refusal.label} → ${answer.statusCode} ${answer.body.slice(0, 300)}`;
        expect(answer.statusCode, label).toBeGreaterThanOrEqual(400);
        expect(answer.statusCode, label).toBeLessThan(500);

        const api = client(server.url, keys[refusal.key]);
        const product = refusal.key === 'avatar' ? 'ai_avatar' : 'ai_assistant';
        const classId = refusal.key === 'avatar' ? 'model_checkpoint' : 'metadata';
        for (const written of [name, `${name}/first`]) {
          const versions = await api(
            'GET',
            `/v1/artifacts/${product}/${classId}/${written}/versions`,
          );
          expect(versions.status, `${written} after ${label}`).toBe(404);
        }
        // One denial per item, and a batch's own entry: allowed to run, it wrote nothing.
        expect(auditAfter - auditBefore, label).toBeLessThanOrEqual(batch ? 4 : 1);
        for (let index = auditBefore; index < auditAfter; index++) {
          const { entry } = (await owner('GET', `/v1/audit/entries/${index}`)).json;
          const where = `entry ${index} after ${label}`;
          if (entry.operation === 'artifact.batch') expect(entry.target.name, where).toBeNull();
          else expect(entry.allow, where).toBe(false);
        }
        const events = await owner('GET', `/v1/events?since=${eventsBefore}&type=bucket.artifact.`);
        expect(events.json.events, label).toEqual([]);
        const clean = await eventually(
          async () => (await blobTemporaries(server.dataDir)).length === 0,
        );
        expect(clean, `temporaries after ${label}`).toBe(true);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, 120_000);
});
