/**
 * A certification that cannot fail is worthless (issue 19): for each check that probes the gate,
 * a test-only fault switches its rule or detector off (`alterVerdict`, gate/decide.ts) and exactly
 * that check fails; with the fault gone, the Bucket is certified again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateContext, StageVerdict } from '../../src/gate/context.js';
import { certify, failing, scrubToEnd } from '../helpers/certification.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

type Fault = (stage: string, verdict: StageVerdict, ctx: GateContext) => StageVerdict;

const rules = (verdict: StageVerdict) => verdict.deny?.reasons.map((reason) => reason.rule) ?? [];
const threats = (verdict: StageVerdict) => verdict.threats?.map((found) => found.id) ?? [];
/** The verdict with its denial and threats gone: the rule switched off. */
const off = (verdict: StageVerdict): StageVerdict =>
  verdict.operation ? { operation: verdict.operation } : {};
const json = (ctx: GateContext) => ctx.content?.bytes?.toString('utf8') ?? '';

/** Per check: the fault that breaks its mechanism, and nothing another check probes. */
const FAULTS: Record<string, Fault> = {
  G1: (_s, v, ctx) => (ctx.class === 'model_checkpoint' && ctx.target?.head && v.deny ? off(v) : v),
  G3: (s, v, ctx) =>
    s === 'operation' &&
    ctx.class === 'avatar_config' &&
    ctx.target?.head &&
    ctx.principal.kind === 'product'
      ? {
          deny: { status: 403, code: 'forbidden', reasons: [{ rule: 'fault', message: 'no' }] },
        }
      : v,
  G5: (_s, v) => (rules(v).includes('class_rejected') ? off(v) : v),
  G7: (_s, v) => (rules(v).includes('legal_hold') ? off(v) : v),
  R3: (_s, v, ctx) => (ctx.meta['sha256'] !== undefined ? off(v) : v),
  R4: (_s, v) => (rules(v).includes('product_isolation') ? off(v) : v),
  R5: (_s, v, ctx) =>
    ctx.principal.kind === 'ai_agent' && ctx.class === 'avatar_config' ? off(v) : v,
  R6: (_s, v) => (rules(v).includes('audit_log_append_only') ? off(v) : v),
  R7: (_s, v) => (rules(v).includes('compliance_retention') ? off(v) : v),
  T1: (_s, v, ctx) => (ctx.query['product'] !== undefined ? off(v) : v),
  T2: (_s, v, ctx) => (json(ctx).includes('$where') ? off(v) : v),
  T3: (_s, v, ctx) =>
    ctx.action === 'artifact.write' && ctx.class === 'metadata' && threats(v).includes('T3')
      ? off(v)
      : v,
  T4: (_s, v, ctx) => (ctx.query['skip_audit'] !== undefined ? off(v) : v),
  T5: (_s, v, ctx) => (ctx.class === 'metadata' && rules(v).includes('max_bytes') ? off(v) : v),
  T6: (_s, v) => (threats(v).includes('T6') ? off(v) : v),
  T7: (_s, v) => ({ ...v, threats: v.threats?.filter((found) => found.id !== 'T7') }),
  F1: (_s, v, ctx) => (ctx.principal.kind === 'executor' ? off(v) : v),
  F2: (_s, v, ctx) =>
    ctx.principal.kind === 'ai_agent' && ctx.class === 'basket_config' ? off(v) : v,
  F3: (_s, v, ctx) => (ctx.query['emergency'] !== undefined ? off(v) : v),
  L1: (_s, v, ctx) =>
    ctx.class === 'model_checkpoint' && rules(v).includes('max_bytes') ? off(v) : v,
  L2: (_s, v) => (rules(v).includes('writes_per_second') ? off(v) : v),
  L3: (_s, v) => (rules(v).includes('reads_per_second') ? off(v) : v),
  L5: (_s, v) => (v.deny?.code === 'insufficient_storage' ? off(v) : v),
};

describe('each gate mechanism switched off fails its own check', () => {
  let server: InProcessTestServer;
  let fault: Fault | null = null;

  beforeAll(async () => {
    server = await startTestServer({
      bucket: {
        scrubThrottle: { share: 1, bytesPerSecond: 0 },
        gate: { alterVerdict: (stage, verdict, ctx) => fault?.(stage, verdict, ctx) ?? verdict },
      },
    });
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const written = await client(server.url, key)(
      'PUT',
      '/v1/artifacts/ai_avatar/avatar_config/cert/a.json',
      { body: { look: 'calm' } },
    );
    expect(written.status).toBe(201);
    expect(await scrubToEnd(server)).toBe('passed');
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('is certified without a fault', async () => {
    expect(failing(await certify(server))).toEqual([]);
  });

  for (const [id, broken] of Object.entries(FAULTS)) {
    it(`fails ${id} alone when its mechanism is off`, async () => {
      fault = broken;
      try {
        const answer = await certify(server);
        expect(failing(answer)).toEqual([id]);
        expect(answer.status).toBe('not_certified');
      } finally {
        fault = null;
      }
      expect((await certify(server)).status).toBe('certified');
    });
  }
});
