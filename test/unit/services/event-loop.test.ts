/** The event-loop delay monitor (SPEC §15): a blocked loop shows, a free one does not. */
import { describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../../../src/services/event-loop.js';
import { blockLoop, sleep } from '../../helpers/http.js';

describe('EventLoopMonitor', () => {
  it('reads a loop that lags 100 ms at every turn as delayed, then as free again', async () => {
    const monitor = new EventLoopMonitor();
    try {
      await sleep(600);
      expect(monitor.current()).toBeLessThan(50);
      // A second of turns that each keep the loop 100 ms: every timer runs about 100 ms late.
      const until = Date.now() + 1000;
      while (Date.now() < until) {
        blockLoop(100);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(monitor.current()).toBeGreaterThan(50);
      expect(monitor.p99()).toBeGreaterThan(50);
      await sleep(800);
      expect(monitor.current()).toBeLessThan(150);
      // The p99 remembers the lag for its window.
      expect(monitor.p99()).toBeGreaterThan(50);
    } finally {
      monitor.stop();
    }
  });

  it('reads a turn that keeps the loop busy as delayed while it lasts, before any timer runs', async () => {
    const monitor = new EventLoopMonitor();
    try {
      // Idle for 600 ms reads far below it (a loaded machine may deschedule the process a while).
      await sleep(600);
      expect(monitor.current()).toBeLessThan(150);
      // One turn busy for 300 ms (a flood of requests read in one poll phase): no timer has run,
      // yet the requests read now were queued when it began, 300 ms ago.
      blockLoop(300);
      expect(monitor.current()).toBeGreaterThan(250);
      // Idle time is not delay: a loop waiting for I/O reads as free.
      await sleep(800);
      expect(monitor.current()).toBeLessThan(150);
    } finally {
      monitor.stop();
    }
  });
});
