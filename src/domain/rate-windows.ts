/**
 * The fixed windows behind the artifact rates (SPEC §2.3): how long each window lasts and how many
 * points it holds for a rate per second, and one window per (kind, scope) that a changed limit
 * replaces at once. Pure: the limiters in them (rate-limiter-flexible's memory or Redis store) are
 * made and spent by the adapters.
 */

/** Points per window at least, so that rounding a rate to whole points stays within 5 %. */
const MIN_POINTS_PER_WINDOW = 10;
/** Windows are never shorter: a shorter window costs a timer per window per key. */
const MIN_WINDOW_MS = 100;

export interface RateWindow {
  readonly windowMs: number;
  readonly points: number;
}

/**
 * A fixed window admits up to one extra window's worth at a window boundary, so windows are short
 * (≤ 1 s, usually 100–200 ms): over any span of a few seconds the accepted rate stays within a few
 * per cent of the limit, while each window still holds enough points to round accurately.
 */
export function windowFor(perSecond: number): RateWindow {
  const windowMs = Math.min(
    1000,
    Math.max(MIN_WINDOW_MS, Math.ceil((MIN_POINTS_PER_WINDOW * 1000) / perSecond)),
  );
  return { windowMs, points: Math.max(1, Math.round((perSecond * windowMs) / 1000)) };
}

/**
 * One limiter per scope (`write:global`, `read:product`, …), made by `create` for the scope's
 * limit and made again when that limit changes, so a policy change applies to the next request.
 */
export class RateWindows<L> {
  private readonly windows = new Map<string, { readonly perSecond: number; readonly limiter: L }>();

  constructor(
    private readonly create: (scope: string, perSecond: number, window: RateWindow) => L,
  ) {}

  /** The scope's limiter for `perSecond`. */
  limiter(scope: string, perSecond: number): L {
    let window = this.windows.get(scope);
    if (window?.perSecond !== perSecond) {
      window = { perSecond, limiter: this.create(scope, perSecond, windowFor(perSecond)) };
      this.windows.set(scope, window);
    }
    return window.limiter;
  }
}
