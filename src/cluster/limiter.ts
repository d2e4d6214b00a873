/**
 * Rates and write slots global across the workers of one embedded Bucket (issue 21, decision
 * 0046): the primary process holds the in-process limiter (storage/memory/limiter.ts) and the
 * workers ask it over the cluster's IPC channel. A worker's calls of one event-loop turn travel
 * as one message and come back as one, so a busy worker pays one round trip per turn, not one per
 * request. The slots a worker holds are released when it exits, so a worker killed mid-write
 * leaves no slot taken.
 */
import type { AuthFailureVerdict, BruteForceRule } from '../domain/threats.js';
import type { RateKind, RateLimits, RateUsage, RateVerdict } from '../domain/rates.js';
import type { Limiter, ProductSlots, WriteSlot } from '../storage/ports.js';

/** One call of a limiter method, as it travels to the primary. */
interface Call {
  readonly id: number;
  readonly method: string;
  readonly args: readonly unknown[];
}

interface Reply {
  readonly id: number;
  readonly value?: unknown;
  readonly error?: string;
}

export interface LimiterCalls {
  readonly bucket: 'limiter';
  readonly calls: readonly Call[];
}

export interface LimiterReplies {
  readonly bucket: 'limiter';
  readonly replies: readonly Reply[];
}

/** What a worker's process object offers: `process` itself in a cluster worker. */
export interface Channel {
  send?(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** A slot's id travels instead of the slot: the primary keeps the slot itself. */
type SlotId = number;

function isReplies(message: unknown): message is LimiterReplies {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { bucket?: unknown }).bucket === 'limiter' &&
    Array.isArray((message as { replies?: unknown }).replies)
  );
}

/** The worker's side: a Limiter whose every call is answered by the primary's. */
export class IpcLimiter implements Limiter {
  readonly kind = 'memory (primary process)';
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private queue: Call[] = [];

  constructor(private readonly channel: Channel = process) {
    channel.on('message', (message) => {
      if (!isReplies(message)) return;
      for (const reply of message.replies) {
        const settle = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        settle?.(reply);
      }
    });
  }

  private call<T>(method: string, args: readonly unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, (reply) => {
        if (reply.error !== undefined) reject(new Error(`limiter: ${reply.error}`));
        else resolve(reply.value as T);
      });
      this.enqueue({ id, method, args });
    });
  }

  private enqueue(call: Call): void {
    this.queue.push(call);
    if (this.queue.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const calls = this.queue;
    this.queue = [];
    if (calls.length === 0) return;
    const message: LimiterCalls = { bucket: 'limiter', calls };
    if (this.channel.send?.(message) === undefined) {
      for (const call of calls) this.waiting.get(call.id)?.({ id: call.id, error: 'no primary' });
    }
  }

  async ping(): Promise<void> {
    await this.call('ping', []);
  }

  async close(): Promise<void> {}

  async tryAcquireWrite(max: number, product?: ProductSlots): Promise<WriteSlot | null> {
    const slot = await this.call<SlotId | null>('tryAcquireWrite', [max, product]);
    if (slot === null) return null;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        // Nothing waits for it: the primary frees the slot when the message arrives.
        this.enqueue({ id: 0, method: 'release', args: [slot] });
      },
    };
  }

  writeSlotFree(max: number, product?: ProductSlots): Promise<boolean> {
    return this.call('writeSlotFree', [max, product]);
  }

  writesInFlight(): Promise<number> {
    return this.call('writesInFlight', []);
  }

  consume(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    return this.call('consume', [kind, product, limits]);
  }

  peek(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    return this.call('peek', [kind, product, limits]);
  }

  rateUsage(): Promise<RateUsage> {
    return this.call('rateUsage', []);
  }

  recordAuthFailure(address: string, rule: BruteForceRule): Promise<AuthFailureVerdict> {
    return this.call('recordAuthFailure', [address, rule]);
  }
}

/** The primary's side: answers every worker's calls from one limiter. */
export class LimiterHost {
  private nextSlot = 1;
  /** Slots held, by worker, so that a worker that exits leaves none taken. */
  private readonly slots = new Map<number, Map<SlotId, WriteSlot>>();

  constructor(private readonly limiter: Limiter) {}

  /** Answers one worker's message (if it is one for the limiter) through `reply`. */
  async handle(worker: number, message: unknown, reply: (answer: LimiterReplies) => void) {
    const calls = (message as Partial<LimiterCalls> | null)?.calls;
    if ((message as { bucket?: unknown } | null)?.bucket !== 'limiter' || !Array.isArray(calls)) {
      return;
    }
    const replies: Reply[] = [];
    for (const call of calls) {
      if (call.method === 'release') {
        const held = this.slots.get(worker);
        held?.get(call.args[0] as SlotId)?.release();
        held?.delete(call.args[0] as SlotId);
        continue;
      }
      try {
        replies.push({ id: call.id, value: await this.answer(worker, call) });
      } catch (error) {
        replies.push({ id: call.id, error: (error as Error).message });
      }
    }
    if (replies.length > 0) reply({ bucket: 'limiter', replies });
  }

  /** Releases every slot `worker` held: it exited. */
  forget(worker: number): void {
    for (const slot of this.slots.get(worker)?.values() ?? []) slot.release();
    this.slots.delete(worker);
  }

  private async answer(worker: number, call: Call): Promise<unknown> {
    const l = this.limiter;
    const a = call.args as [never, never, never];
    switch (call.method) {
      case 'ping':
        return l.ping();
      case 'tryAcquireWrite': {
        const slot = await l.tryAcquireWrite(a[0], a[1]);
        if (!slot) return null;
        const id = this.nextSlot++;
        let held = this.slots.get(worker);
        if (!held) this.slots.set(worker, (held = new Map()));
        held.set(id, slot);
        return id;
      }
      case 'writeSlotFree':
        return l.writeSlotFree(a[0], a[1]);
      case 'writesInFlight':
        return l.writesInFlight();
      case 'consume':
        return l.consume(a[0], a[1], a[2]);
      case 'peek':
        return l.peek(a[0], a[1], a[2]);
      case 'rateUsage':
        return l.rateUsage();
      case 'recordAuthFailure':
        return l.recordAuthFailure(a[0], a[1]);
      default:
        throw new Error(`unknown limiter call ${call.method}`);
    }
  }
}
