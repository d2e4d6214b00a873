/**
 * A task run on a schedule: first after a short delay (a node restarted more often than the
 * interval still runs it), then every interval. Timers are unref'd: a schedule never keeps the
 * process alive.
 */

export interface Periodic {
  stop(): void;
}

export function startPeriodic(
  tick: () => void,
  schedule: { readonly firstMs: number; readonly everyMs: number },
): Periodic {
  let timer: NodeJS.Timeout = setTimeout(
    () => {
      tick();
      timer = setInterval(tick, schedule.everyMs);
      timer.unref();
    },
    Math.min(schedule.firstMs, schedule.everyMs),
  );
  timer.unref();
  return { stop: () => clearTimeout(timer) };
}
