/**
 * The policy matrix through real HTTP (issue 3): a fast-check property over (principal kind, own
 * product, target product, class, operation) compares the answers of a running server with an
 * oracle written here from the SPEC §1 and §2 tables (transcribed in test/helpers/spec-tables.ts) —
 * not from the implementation's policy. Bounded: 400 runs against one server (about a second).
 */
import fc from 'fast-check';
import type { PrincipalKind } from '../../src/domain/principal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateCaseArbitrary, type GateCase, type Op } from '../helpers/arbitraries.js';
import {
  client,
  createKey,
  startTestServer,
  withoutEscalation,
  type TestServer,
} from '../helpers/server.js';
import { CLASS_OPERATIONS, PRODUCT_IDS, PRODUCTS, REJECTED } from '../helpers/spec-tables.js';

const BINARY = new Set(['model_checkpoint']);
/** A sample of the classes: every table class, some rejected and forbidden ones, an unknown one. */
const SAMPLED_CLASSES = [
  ...Object.keys(CLASS_OPERATIONS),
  ...REJECTED.slice(0, 3),
  'direct_schema_change',
  'access_control',
  'write_operations',
  'unknown_class',
];
type Case = GateCase;

type Expected = 403 | 404 | 'allow';

/** SPEC §1 (who may do what), §4.1 (stage order), §2 (products, classes, operations). */
function oracle(c: Case): Expected {
  const writes = c.op !== 'READ';
  const scoped = c.kind === 'product' || c.kind === 'ai_agent' || c.kind === 'core';
  // §1: only namespace principals write; auditors and executors never read content.
  if (writes ? !scoped : c.kind === 'executor' || c.kind === 'auditor') return 403;
  if (scoped && c.target !== c.own) return 403;
  // Stage 2: product and ai_agent keys act only on the classes their integration declared
  // (the test integrations declare every class their product is allowed).
  if (
    (c.kind === 'product' || c.kind === 'ai_agent') &&
    !PRODUCTS[c.own ?? '']?.allowed.includes(c.classId)
  ) {
    return 403;
  }
  const product = PRODUCTS[c.target];
  if (!product) return 404;
  if (REJECTED.includes(c.classId) || product.forbidden.includes(c.classId)) return 403;
  const operations = CLASS_OPERATIONS[c.classId];
  if (operations === undefined) return 404;
  if (!product.allowed.includes(c.classId)) return 403;
  if (writes && product.readOnly) return 403;
  if (c.kind === 'ai_agent' && (c.op === 'UPDATE' || c.op === 'DELETE')) return 403;
  if (!operations.includes(c.op[0] as string)) return 403;
  return 'allow';
}

/** What a request the gate allowed may answer (the target may be absent or tombstoned). */
const ALLOWED_STATUSES: Record<Op, number[]> = {
  CREATE: [201],
  READ: [200, 404],
  UPDATE: [200],
  DELETE: [204, 404],
};

const caseArbitrary = gateCaseArbitrary({
  targets: PRODUCT_IDS,
  ownerlessTarget: 'core',
  classes: SAMPLED_CLASSES,
});

describe('the gate matrix over HTTP', () => {
  let server: TestServer;
  const keys = new Map<string, string>();
  const keyOf = (kind: PrincipalKind, own: string | null) =>
    keys.get(`${kind}:${own ?? ''}`) as string;
  let counter = 0;

  const body = (classId: string) =>
    BINARY.has(classId)
      ? { body: Buffer.from('bytes'), headers: { 'content-type': 'application/octet-stream' } }
      : { body: { n: ++counter } };

  beforeAll(async () => {
    server = await startTestServer();
    // Cross-product attempts are CRITICAL (T1): without this, the keys would be suspended after
    // three of them and the matrix would measure escalation instead.
    await withoutEscalation(server, 'property test: no escalation');
    keys.set('owner:', server.ownerKey);
    for (const kind of ['executor', 'auditor', 'core'] as const) {
      keys.set(`${kind}:${kind === 'core' ? 'core' : ''}`, (await createKey(server, { kind })).key);
    }
    for (const product of PRODUCT_IDS) {
      for (const kind of ['product', 'ai_agent'] as const) {
        keys.set(`${kind}:${product}`, (await createKey(server, { kind, product })).key);
      }
      // One existing artifact per writable class: the target of READ, UPDATE and DELETE.
      const writer = client(server.url, keyOf('product', product));
      for (const classId of PRODUCTS[product]?.allowed ?? []) {
        if (!(CLASS_OPERATIONS[classId] ?? '').includes('C')) continue;
        const seeded = await writer(
          'PUT',
          `/v1/artifacts/${product}/${classId}/seed/existing`,
          body(classId),
        );
        expect(seeded.status, `${product}/${classId}`).toBe(201);
      }
    }
  });
  afterAll(async () => server?.dispose());

  it('answers every (kind, product, target, class, operation) as the SPEC tables say', async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        const api = client(server.url, keyOf(c.kind, c.own));
        const base = `/v1/artifacts/${c.target}/${c.classId}`;
        const answer =
          c.op === 'CREATE'
            ? await api('PUT', `${base}/prop/${++counter}`, body(c.classId))
            : c.op === 'READ'
              ? await api('GET', `${base}/seed/existing`)
              : c.op === 'UPDATE'
                ? await api('PUT', `${base}/seed/existing`, body(c.classId))
                : await api('DELETE', `${base}/seed/existing`);
        const expected = oracle(c);
        const label = `${JSON.stringify(c)} → ${answer.status} ${answer.bytes.toString().slice(0, 300)}`;
        if (expected === 'allow') {
          expect(ALLOWED_STATUSES[c.op], label).toContain(answer.status);
        } else {
          expect(answer.status, label).toBe(expected);
          if (expected === 403) expect(answer.json.error.code, label).toBe('forbidden');
        }
      }),
      { numRuns: 400 },
    );
  });
});
