import { describe, expect, it, vi } from 'vitest';
import { threat } from '../../../src/domain/decision.js';
import { Gate, STAGES_AFTER_LOOKUP, STAGES_BEFORE_LOOKUP } from '../../../src/gate/decide.js';
import {
  withTargetAndContent,
  type GateContext,
  type TargetState,
} from '../../../src/gate/context.js';
import { gateContext, headVersion, principal } from '../../helpers/gate.js';

const noTarget = (): Promise<TargetState> => Promise.resolve({ head: null });

/** The six stages in SPEC order. */
const ALL_STAGES = [...STAGES_BEFORE_LOOKUP, ...STAGES_AFTER_LOOKUP].map(([name]) => name);

/** An ai_avatar key writing its own JSON config: allowed unless a test breaks something. */
const avatarWrite = (fields: Partial<GateContext> = {}) =>
  gateContext({
    principal: principal('product', 'ai_avatar'),
    action: 'artifact.write',
    product: 'ai_avatar',
    class: 'avatar_config',
    name: 'p',
    contentType: 'application/json',
    ...fields,
  });

describe('Gate.decide', () => {
  it('refuses a cross-product write before the target loader is ever called', async () => {
    const loader = vi.fn(noTarget);
    const outcome = await new Gate().decide(
      gateContext({
        principal: principal('product', 'gurukul'),
        action: 'artifact.write',
        product: 'ai_avatar',
        class: 'avatar_config',
        name: 'persona/1',
        contentType: 'application/json',
      }),
      loader,
    );
    expect(loader).not.toHaveBeenCalled();
    expect(outcome.decision).toMatchObject({ allow: false, status: 403 });
    expect(outcome.decision.threats.map((t) => t.id)).toEqual(['T1']);
    expect(outcome.code).toBe('forbidden');
  });

  it('does not look the target up for an inadmissible class or a malformed name', async () => {
    const loader = vi.fn(noTarget);
    const gate = new Gate();
    const base = {
      principal: principal('product', 'gurukul'),
      action: 'artifact.write' as const,
      product: 'gurukul',
      contentType: 'application/json',
    };
    const rejected = await gate.decide(
      gateContext({ ...base, class: 'payment_info', name: 'x' }),
      loader,
    );
    const badName = await gate.decide(
      gateContext({ ...base, class: 'user_progress', name: '../x' }),
      loader,
    );
    expect(rejected.decision.status).toBe(403);
    expect(badName.decision.status).toBe(400);
    expect(loader).not.toHaveBeenCalled();
  });

  it('looks the target up once for an admitted write and decides UPDATE against it', async () => {
    const loader = vi.fn(async () => ({ head: headVersion('ai_avatar', 'avatar_config', 'p', 4) }));
    const outcome = await new Gate().decide(avatarWrite({ declaredSize: 20 }), loader);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(outcome.decision).toMatchObject({ allow: true, status: 200, operation: 'UPDATE' });
    expect(outcome.code).toBeNull();
    expect(outcome.bodyLimit).toBe(1024 * 1024);
  });

  it('records the pinned decision fields (SPEC §4.3)', async () => {
    const outcome = await new Gate().decide(
      gateContext({
        principal: principal('product', 'gurukul'),
        action: 'artifact.read',
        product: 'ai_avatar',
        class: 'model_checkpoint',
        name: 'm.ckpt',
      }),
    );
    const { decision } = outcome;
    expect(Object.keys(decision).sort()).toEqual(
      [
        'allow',
        'id',
        'operation',
        'policyVersion',
        'principal',
        'reasons',
        'status',
        'target',
        'threats',
      ].sort(),
    );
    expect(decision.principal).toEqual({
      id: 'key_product_gurukul',
      kind: 'product',
      product: 'gurukul',
    });
    expect(decision.target).toEqual({
      product: 'ai_avatar',
      class: 'model_checkpoint',
      name: 'm.ckpt',
    });
    expect(decision.operation).toBe('READ');
    expect(decision.policyVersion).toBe(1);
    expect(decision.threats[0]).toMatchObject({
      id: 'T1',
      name: 'Access control bypass',
      severity: 'CRITICAL',
    });
    expect(decision.reasons.length).toBeGreaterThan(0);
  });

  it('gives every decision its own id', async () => {
    const gate = new Gate();
    const ctx = () => gateContext({ principal: principal('owner'), action: 'policy.read' });
    const [a, b] = await Promise.all([gate.decide(ctx()), gate.decide(ctx())]);
    expect(a.decision.id).not.toBe(b.decision.id);
  });

  it('answers a declared size over the class limit with 413 and T5, before reading the body', async () => {
    const outcome = await new Gate().decide(
      gateContext({
        principal: principal('product', 'ai_assistant'),
        action: 'artifact.write',
        product: 'ai_assistant',
        class: 'metadata',
        name: 'big.json',
        contentType: 'application/json',
        declaredSize: 16 * 1024 + 1,
      }),
      noTarget,
    );
    expect(outcome.decision).toMatchObject({ allow: false, status: 413 });
    expect(outcome.code).toBe('payload_too_large');
    expect(outcome.decision.threats.map((t) => t.id)).toEqual(['T5']);
  });

  it('denies precondition failures with 412 and 409', async () => {
    const head = async () => ({ head: headVersion('core', 'agent_spec', 'a', 2) });
    const ctx = (preconditions: { ifNoneMatch: boolean; ifVersion: number | null }) =>
      gateContext({
        principal: principal('core', 'core'),
        action: 'artifact.write',
        product: 'core',
        class: 'agent_spec',
        name: 'a',
        contentType: 'application/json',
        preconditions,
      });
    const gate = new Gate();
    const exists = await gate.decide(ctx({ ifNoneMatch: true, ifVersion: null }), head);
    const stale = await gate.decide(ctx({ ifNoneMatch: false, ifVersion: 1 }), head);
    expect(exists).toMatchObject({ code: 'already_exists', decision: { status: 412 } });
    expect(stale).toMatchObject({ code: 'version_conflict', decision: { status: 409 } });
  });

  it('decides the body phase of an allowed request from the mode and stage 4, keeping the threats of 1–3', async () => {
    const stages: string[] = [];
    const gate = new Gate({ beforeStage: (stage) => void stages.push(stage) });
    const header = avatarWrite({ declaredSize: 2 });
    const first = await gate.decide(header, noTarget);
    expect(first.decision.allow).toBe(true);
    expect(stages).toEqual(ALL_STAGES);
    expect(first.earlyThreats).toEqual([]);
    expect(first.target).toEqual({ head: null });
    // The header phase hands its verdict on; the context it decided on stays as it was built.
    expect(header.target).toBeUndefined();

    const content = { size: 2, sha256: '0'.repeat(64), bytes: Buffer.from('{}') };
    stages.length = 0;
    const second = gate.decideBody(withTargetAndContent(header, first.target, content), first);
    // The mode again (it may have changed while the body arrived), then stages 4–6.
    expect(stages).toEqual(['mode', ...STAGES_AFTER_LOOKUP.map(([name]) => name)]);
    // The same decision as one that runs every stage again.
    const fresh = await new Gate().decide(
      avatarWrite({ declaredSize: 2, target: first.target, content }),
    );
    expect({ ...second.decision, id: '' }).toEqual({ ...fresh.decision, id: '' });
    expect(second.bodyLimit).toBe(fresh.bodyLimit);

    // What stages 1–3 found stays in the body-phase decision, before what the later ones find.
    const carried = withTargetAndContent({ ...header, sha256Claim: '2'.repeat(64) }, first.target, {
      ...content,
      sha256: '1'.repeat(64),
    });
    const withClaim = gate.decideBody(carried, {
      target: first.target,
      earlyThreats: [threat('T4', 'found before the body')],
    });
    expect(withClaim.decision.threats.map((t) => t.id)).toEqual(['T4', 'T7']);

    // A context built afresh runs every stage: the mode and the six of SPEC §4.1.
    stages.length = 0;
    await gate.decide(avatarWrite(), noTarget);
    expect(stages).toHaveLength(7);
  });

  it('turns a fault in any stage into a 503 gate_unavailable denial (fail closed)', async () => {
    for (const failing of ALL_STAGES) {
      const loader = vi.fn(noTarget);
      const gate = new Gate({
        beforeStage: (stage) => {
          if (stage === failing) throw new Error(`injected fault in ${stage}`);
        },
      });
      const outcome = await gate.decide(avatarWrite(), loader);
      expect(outcome.decision, failing).toMatchObject({ allow: false, status: 503 });
      expect(outcome.code, failing).toBe('gate_unavailable');
      expect(outcome.decision.reasons[0]?.rule, failing).toBe('gate_failure');
      expect(outcome.decision.reasons[0]?.message, failing).toContain(
        `injected fault in ${failing}`,
      );
      // A fault before the lookup leaves the store untouched.
      const beforeLookup = STAGES_BEFORE_LOOKUP.some(([name]) => name === failing);
      expect(loader.mock.calls.length, failing).toBe(beforeLookup ? 0 : 1);
    }
  });

  it('keeps nothing of a lookup once it settled, even in a loop that never yields to timers', async () => {
    const gate = new Gate();
    for (let i = 0; i < 1000; i++) {
      expect((await gate.decide(avatarWrite(), noTarget)).decision.allow).toBe(true);
    }
    expect(gate.lookupsInFlight).toBe(0);
    const failing = gate.decide(avatarWrite(), () => Promise.reject(new Error('store down')));
    expect(gate.lookupsInFlight).toBe(1);
    expect((await failing).code).toBe('gate_unavailable');
    expect(gate.lookupsInFlight).toBe(0);
  });

  it('fails closed with 503 when the target lookup hangs, within 110 % of its timeout', async () => {
    const gate = new Gate({ targetLookupTimeoutMs: 200 });
    const started = Date.now();
    const [hung, answered] = await Promise.all([
      gate.decide(avatarWrite(), () => new Promise<TargetState>(() => {})),
      gate.decide(avatarWrite(), noTarget),
    ]);
    const elapsed = Date.now() - started;
    expect(hung).toMatchObject({
      code: 'gate_unavailable',
      decision: { allow: false, status: 503 },
    });
    expect(hung.decision.reasons[0]?.message).toContain('target lookup timed out after 200 ms');
    // A lookup that answers is not held up by one that hangs beside it.
    expect(answered.decision.allow).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    // A second hang on the same gate (its sweep timer stopped once nothing was pending) fails too.
    const again = await gate.decide(avatarWrite(), () => new Promise<TargetState>(() => {}));
    expect(again.code).toBe('gate_unavailable');
  });

  it('turns a failing target lookup into a 503 gate_unavailable denial', async () => {
    const outcome = await new Gate().decide(avatarWrite(), () =>
      Promise.reject(new Error('database is locked')),
    );
    expect(outcome.decision).toMatchObject({ allow: false, status: 503 });
    expect(outcome.code).toBe('gate_unavailable');
  });

  it('refuses a body whose SHA-256 differs from the client claim with 400 and T7', async () => {
    const outcome = await new Gate().decide(
      gateContext({
        principal: principal('product', 'ai_avatar'),
        action: 'artifact.write',
        product: 'ai_avatar',
        class: 'model_checkpoint',
        name: 'm.ckpt',
        contentType: 'application/octet-stream',
        content: { size: 10, sha256: 'c'.repeat(64), bytes: null },
        sha256Claim: 'd'.repeat(64),
      }),
      noTarget,
    );
    expect(outcome.decision).toMatchObject({ allow: false, status: 400 });
    expect(outcome.code).toBe('sha256_mismatch');
    expect(outcome.decision.threats.map((t) => t.id)).toEqual(['T7']);
  });
});
