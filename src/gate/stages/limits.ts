/** Stage 6 — limits (SPEC §4.1, §2.3): size and write concurrency (T5). */
import { threat } from '../../domain/decision.js';
import { productWriteSlots, ruleOf } from '../../domain/policy.js';
import { storageBreach, storageLimitsOf } from '../../domain/usage.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';
import { rateDenial } from './rates.js';

/**
 * The largest body a write of this class may have: the class maximum within the global one; an S3
 * part's, what is left of it once its upload's other parts are counted.
 */
export function bodyLimitOf(ctx: GateContext): number | null {
  const max = objectLimitOf(ctx);
  return max === null ? null : Math.max(0, max - (ctx.uploadBytes ?? 0));
}

/** The class maximum within the global one, for writes (an S3 part's object included). */
function objectLimitOf(ctx: GateContext): number | null {
  const writes = ctx.action === 'artifact.write' || ctx.action === 's3.multipart';
  if (!writes || ctx.class === null) return null;
  const document = ctx.policy.document;
  const classMax = ruleOf(document.classes, ctx.class)?.maxBytes ?? null;
  const globalMax = document.limits.maxArtifactBytes;
  return classMax === null ? globalMax : Math.min(classMax, globalMax);
}

export function limitsStage(ctx: GateContext): StageVerdict {
  const rated = rateDenial(ctx);
  if (rated) return rated;
  const limit = bodyLimitOf(ctx);
  if (limit === null) return ALLOW;
  const size = ctx.content?.size ?? ctx.declaredSize;
  if (size !== null && size > limit) {
    const held = ctx.uploadBytes ?? 0;
    const message =
      held > 0
        ? `a part of ${size} bytes would take this object past its limit of ${limit + held} ` +
          `bytes (its upload's other parts hold ${held})`
        : `${size} bytes exceed the limit of ${limit} bytes`;
    return deny(
      'payload_too_large',
      [{ rule: 'max_bytes', message }],
      [threat('T5', `body of ${size} bytes over the ${limit}-byte limit`)],
    );
  }
  if (ctx.usage && ctx.product !== null) {
    // Before the body only the declared size is known; the body phase decides on the received one.
    // An S3 part adds bytes (held until its upload ends), never an artifact.
    const adding = size ?? 0;
    const creates = ctx.action === 'artifact.write' && ctx.target?.head === null;
    const newArtifact = creates ? 1 : 0;
    const limits = storageLimitsOf(ctx.policy.document, ctx.product);
    const breach = storageBreach(ctx.usage, limits, adding, newArtifact);
    if (breach) {
      return deny('insufficient_storage', [breach], [threat('T5', breach.message)]);
    }
  }
  if (ctx.writeSlot === false) {
    const max = ctx.policy.document.limits.concurrentWrites;
    const share = productWriteSlots(ctx.policy.document.limits);
    return deny(
      'rate_limited',
      [
        {
          rule: 'concurrent_writes',
          message: `${max} writes are already in flight, or ${share} of this product's`,
        },
      ],
      [threat('T5', `concurrency limit of ${max} writes reached`)],
    );
  }
  return ALLOW;
}
