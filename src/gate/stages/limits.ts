/** Stage 6 — limits (SPEC §4.1, §2.3): size and write concurrency (T5). */
import { threat } from '../../domain/decision.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';

/** The largest body a write of this class may have: the class maximum within the global one. */
export function bodyLimitOf(ctx: GateContext): number | null {
  if (ctx.action !== 'artifact.write' || ctx.class === null) return null;
  const document = ctx.policy.document;
  const classMax = document.classes[ctx.class]?.maxBytes ?? null;
  const globalMax = document.limits.maxArtifactBytes;
  return classMax === null ? globalMax : Math.min(classMax, globalMax);
}

export function limitsStage(ctx: GateContext): StageVerdict {
  const limit = bodyLimitOf(ctx);
  if (limit === null) return ALLOW;
  const size = ctx.content?.size ?? ctx.declaredSize;
  if (size !== null && size > limit) {
    return deny(
      413,
      'payload_too_large',
      [{ rule: 'max_bytes', message: `${size} bytes exceed the limit of ${limit} bytes` }],
      [threat('T5', `body of ${size} bytes over the ${limit}-byte limit`)],
    );
  }
  if (ctx.writeSlot === false) {
    const max = ctx.policy.document.limits.concurrentWrites;
    return deny(
      429,
      'rate_limited',
      [{ rule: 'concurrent_writes', message: `${max} writes are already in flight` }],
      [threat('T5', `concurrency limit of ${max} writes reached`)],
    );
  }
  return ALLOW;
}
