/** The in-process limiter of the embedded default: write slots counted in this process. */
import type { Limiter, WriteSlot } from '../ports.js';

export class MemoryLimiter implements Limiter {
  readonly kind = 'memory';
  private inFlight = 0;

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  async tryAcquireWrite(max: number): Promise<WriteSlot | null> {
    if (this.inFlight >= max) return null;
    this.inFlight++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
      },
    };
  }

  async writesInFlight(): Promise<number> {
    return this.inFlight;
  }
}
