/**
 * The policy matrix as a property: `Gate.decide` against an oracle written here, straight from the
 * SPEC §1 principal table and the §2.1/§2.2 product and class tables, transcribed in
 * test/helpers/spec-tables.ts (not from the policy file).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PrincipalKind } from '../../../src/domain/principal.js';
import type { Action } from '../../../src/gate/actions.js';
import type { TargetState } from '../../../src/gate/context.js';
import { Gate } from '../../../src/gate/decide.js';
import { gateContext, headVersion, principal } from '../../helpers/gate.js';
import {
  CLASS_IDS,
  CLASS_OPERATIONS,
  KINDS,
  PRODUCT_IDS,
  PRODUCTS,
  REJECTED,
} from '../../helpers/spec-tables.js';
import { askerArbitrary } from '../../helpers/arbitraries.js';

type Op = 'CREATE' | 'READ' | 'UPDATE' | 'DELETE';

interface Case {
  kind: PrincipalKind;
  own: string | null;
  target: string;
  classId: string;
  op: Op;
  /** For READ: the content (GET) or only its metadata (HEAD). */
  content: boolean;
}

interface Expected {
  status: number;
  /** Whether the refusal came before the target lookup (stages 1–3). */
  beforeLookup: boolean;
  threat?: 'T1' | 'T3';
}

function oracle(c: Case): Expected {
  const early = (status: number, threat?: 'T1'): Expected => ({
    status,
    beforeLookup: true,
    ...(threat ? { threat } : {}),
  });
  const writes = c.op !== 'READ';
  // SPEC §5 T3: any write to the audit log, whoever asks, before any right or lookup.
  if (writes && c.classId === 'audit_log') return { status: 403, beforeLookup: true, threat: 'T3' };
  // SPEC §1: only namespace principals write; auditors and executors never read content.
  const mayUse = writes
    ? ['product', 'ai_agent', 'core'].includes(c.kind)
    : !c.content || ['owner', 'product', 'ai_agent', 'core'].includes(c.kind);
  if (!mayUse) return early(403);
  const scoped = ['product', 'ai_agent', 'core'].includes(c.kind);
  if (scoped && c.target !== c.own) return early(403, 'T1');
  // SPEC §4.1 stage 2: product and ai_agent keys act only on the classes their integration
  // declared (here: every class their product is allowed), before admission looks at the class.
  const integrated = c.kind === 'product' || c.kind === 'ai_agent';
  if (integrated && !(PRODUCTS[c.own ?? '']?.allowed ?? []).includes(c.classId)) return early(403);
  const product = PRODUCTS[c.target];
  if (!product) return early(404);
  if (REJECTED.includes(c.classId) || product.forbidden.includes(c.classId)) return early(403);
  const operations = CLASS_OPERATIONS[c.classId];
  if (operations === undefined) return early(404);
  if (!product.allowed.includes(c.classId)) return early(403);
  const late = (status: number, threat?: 'T3'): Expected => ({
    status,
    beforeLookup: false,
    ...(threat ? { threat } : {}),
  });
  if (writes && product.readOnly) return late(403);
  if (c.kind === 'ai_agent' && (c.op === 'UPDATE' || c.op === 'DELETE')) return late(403);
  if (!operations.includes(c.op[0] ?? '')) {
    return late(403, c.op === 'UPDATE' || c.op === 'DELETE' ? 'T3' : undefined);
  }
  return late(200);
}

/**
 * Cases biased toward the interesting corner: a key on its own product and a class that product
 * admits (a uniform draw would almost never combine an ai_agent, its own product and an UPDATE).
 */
const caseArbitrary: fc.Arbitrary<Case> = askerArbitrary.chain(({ kind, own }) =>
  fc
    .oneof(
      { weight: 3, arbitrary: fc.constant(own ?? 'gurukul') },
      { weight: 1, arbitrary: fc.constantFrom(...PRODUCT_IDS, 'unknown_product') },
    )
    .chain((target) =>
      fc.record({
        kind: fc.constant(kind),
        own: fc.constant(own),
        target: fc.constant(target),
        classId: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...(PRODUCTS[target]?.allowed ?? ['metadata'])) },
          { weight: 1, arbitrary: fc.constantFrom(...CLASS_IDS) },
        ),
        op: fc.constantFrom<Op>('CREATE', 'READ', 'UPDATE', 'DELETE'),
        content: fc.boolean(),
      }),
    ),
);

function actionOf(c: Case): Action {
  if (c.op === 'READ') return c.content ? 'artifact.read' : 'artifact.head';
  return c.op === 'DELETE' ? 'artifact.delete' : 'artifact.write';
}

async function decideCase(c: Case) {
  let lookups = 0;
  const loader = async (): Promise<TargetState> => {
    lookups++;
    return { head: c.op === 'CREATE' ? null : headVersion(c.target, c.classId, 'item/1') };
  };
  const outcome = await new Gate().decide(
    gateContext({
      principal: principal(c.kind, c.own),
      action: actionOf(c),
      product: c.target,
      class: c.classId,
      name: 'item/1',
      contentType: 'application/json',
      declaredSize: 2,
    }),
    loader,
  );
  return { outcome, lookups };
}

describe('Gate.decide against the SPEC tables', () => {
  it('agrees with the oracle on every (principal, own product, target, class, operation)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        const expected = oracle(c);
        const { outcome, lookups } = await decideCase(c);
        expect(outcome.decision.status).toBe(expected.status);
        expect(outcome.decision.allow).toBe(expected.status === 200);
        if (expected.beforeLookup) expect(lookups).toBe(0);
        if (expected.threat) {
          expect(outcome.decision.threats.map((t) => t.id)).toContain(expected.threat);
        }
        if (expected.status === 200) expect(outcome.decision.operation).toBe(c.op);
      }),
      { numRuns: 3000 },
    );
  });

  it('never lets a namespace key reach another product, whatever the class or operation', async () => {
    await fc.assert(
      fc.asyncProperty(
        caseArbitrary.filter((c) => c.own !== null && c.own !== c.target),
        async (c) => {
          const { outcome, lookups } = await decideCase(c);
          expect(outcome.decision.allow).toBe(false);
          expect(outcome.decision.status).toBe(403);
          expect(lookups).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('agrees with the oracle on the whole finite matrix', async () => {
    let checked = 0;
    for (const kind of KINDS) {
      const owners =
        kind === 'product' || kind === 'ai_agent' ? PRODUCT_IDS : [kind === 'core' ? 'core' : null];
      for (const own of owners) {
        for (const target of [...PRODUCT_IDS, 'unknown_product']) {
          for (const classId of CLASS_IDS) {
            for (const op of ['CREATE', 'READ', 'UPDATE', 'DELETE'] as const) {
              for (const content of [true, false]) {
                const c: Case = { kind, own, target, classId, op, content };
                const { outcome } = await decideCase(c);
                expect(outcome.decision.status, JSON.stringify(c)).toBe(oracle(c).status);
                checked++;
              }
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});
