/**
 * The policy matrix through real HTTP (issue 3): a fast-check property over (principal kind, own
 * product, target product, class, operation) compares the answers of a running server with an
 * oracle written here, directly from the SPEC §1 and §2 tables — not from the implementation's
 * policy. Bounded: 400 runs against one server (about a second).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

type Kind = 'owner' | 'executor' | 'auditor' | 'product' | 'ai_agent' | 'core';
type Op = 'CREATE' | 'READ' | 'UPDATE' | 'DELETE';

// SPEC §2.1, transcribed.
const PRODUCTS: Record<string, { allowed: string[]; forbidden: string[]; readOnly: boolean }> = {
  ai_assistant: {
    allowed: ['metadata', 'artifact_manifest', 'audit_entry'],
    forbidden: ['direct_schema_change', 'system_config'],
    readOnly: false,
  },
  ai_avatar: {
    allowed: ['avatar_config', 'model_checkpoint', 'iteration_history', 'persona_config'],
    forbidden: ['access_control', 'governance_rule'],
    readOnly: false,
  },
  gurukul: {
    allowed: ['educational_content', 'user_progress', 'monetization_marker'],
    forbidden: ['user_auth', 'payment_info'],
    readOnly: false,
  },
  workflow_engine: {
    allowed: ['event_history', 'audit_log'],
    forbidden: ['write_operations', 'schema_changes'],
    readOnly: true,
  },
  core: {
    allowed: ['agent_spec', 'basket_config', 'execution_record', 'agent_output'],
    forbidden: [],
    readOnly: false,
  },
};

// SPEC §2.2, the C/R/U/D columns ("system" and "—" are no client operation).
const CLASS_OPERATIONS: Record<string, string> = {
  metadata: 'CR',
  artifact_manifest: 'CR',
  audit_entry: 'CR',
  avatar_config: 'CRU',
  model_checkpoint: 'CR',
  iteration_history: 'CR',
  persona_config: 'CRU',
  educational_content: 'CRU',
  user_progress: 'CR',
  monetization_marker: 'CR',
  event_history: 'R',
  audit_log: 'R',
  agent_spec: 'CRU',
  basket_config: 'CRUD',
  execution_record: 'CR',
  agent_output: 'CR',
};
const BINARY = new Set(['model_checkpoint']);

// SPEC §2.2, rejected everywhere.
const REJECTED = [
  'user_credentials',
  'user_auth',
  'payment_info',
  'user_personal_data_pii',
  'business_logic_code',
  'video_files',
  'unstructured_binary_data',
  'unversioned_breaking_data',
];

const PRODUCT_IDS = Object.keys(PRODUCTS);
const CLASS_IDS = [
  ...Object.keys(CLASS_OPERATIONS),
  ...REJECTED.slice(0, 3),
  'direct_schema_change',
  'access_control',
  'write_operations',
  'no_such_class',
];
const KINDS: Kind[] = ['owner', 'executor', 'auditor', 'product', 'ai_agent', 'core'];
const OPS: Op[] = ['CREATE', 'READ', 'UPDATE', 'DELETE'];

interface Case {
  readonly kind: Kind;
  readonly own: string | null;
  readonly target: string;
  readonly classId: string;
  readonly op: Op;
}

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

const caseArbitrary: fc.Arbitrary<Case> = fc
  .constantFrom(...KINDS)
  .chain((kind) =>
    (kind === 'product' || kind === 'ai_agent'
      ? fc.constantFrom(...PRODUCT_IDS)
      : fc.constant(kind === 'core' ? 'core' : null)
    ).map((own) => ({ kind, own })),
  )
  .chain(({ kind, own }) =>
    fc
      .oneof(
        { weight: 3, arbitrary: fc.constant(own ?? 'core') },
        { weight: 1, arbitrary: fc.constantFrom(...PRODUCT_IDS) },
      )
      .chain((target) =>
        fc.record({
          kind: fc.constant(kind),
          own: fc.constant(own),
          target: fc.constant(target),
          classId: fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom(...(PRODUCTS[target]?.allowed ?? [])) },
            { weight: 1, arbitrary: fc.constantFrom(...CLASS_IDS) },
          ),
          op: fc.constantFrom(...OPS),
        }),
      ),
  );

describe('the gate matrix over HTTP', () => {
  let server: TestServer;
  const keys = new Map<string, string>();
  const keyOf = (kind: Kind, own: string | null) => keys.get(`${kind}:${own ?? ''}`) as string;
  let counter = 0;

  const body = (classId: string) =>
    BINARY.has(classId)
      ? { body: Buffer.from('bytes'), headers: { 'content-type': 'application/octet-stream' } }
      : { body: { n: ++counter } };

  beforeAll(async () => {
    server = await startTestServer();
    const owner = client(server.url, server.ownerKey);
    // Cross-product attempts are CRITICAL (T1): without this, the keys would be suspended after
    // three of them and the matrix would measure escalation instead.
    const policy = (await owner('GET', '/v1/governance/policy')).json;
    const raised = await owner('PUT', '/v1/governance/policy', {
      body: {
        document: {
          ...policy.document,
          escalation: { criticalRequests: 1_000_000, windowSeconds: 60 },
        },
        reason: 'property test: no escalation',
      },
    });
    expect(raised.status).toBe(200);
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
