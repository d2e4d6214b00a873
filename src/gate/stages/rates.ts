/** Stage 6, rates (SPEC §2.3, §5 T5): the limiter's verdict on this request, put in the context. */
import { threat } from '../../domain/decision.js';
import { retryAfterSeconds } from '../../domain/rates.js';
import { deny, type GateContext, type StageVerdict } from '../context.js';

/** A 429 when the request's rate verdict refused it; null otherwise (or when it was not charged). */
export function rateDenial(ctx: GateContext): StageVerdict | null {
  const rate = ctx.rate;
  if (!rate || rate.allowed) return null;
  const what = rate.kind === 'write' ? 'artifact writes' : 'artifact reads';
  const scope = rate.scope === 'product' ? `product ${ctx.product ?? ''}'s share of ` : '';
  return deny(
    'rate_limited',
    [
      {
        rule: rate.kind === 'write' ? 'writes_per_second' : 'reads_per_second',
        message: `${scope}${what} over ${rate.limit}/s; retry after ${retryAfterSeconds(rate.retryAfterMs)} s`,
      },
    ],
    [threat('T5', `${what} rate limit of ${rate.limit}/s reached (${rate.scope ?? 'global'})`)],
  );
}
