/**
 * Rates and write slots global across the workers of one embedded Bucket (issue 21, decision
 * 0046): the primary process holds the in-process limiter (storage/memory/limiter.ts) and the
 * workers ask it over the cluster's IPC channel. A worker's calls of one event-loop turn travel
 * as one message and come back as one, so a busy worker pays one round trip per turn, not one per
 * request. Rate points are leased: a worker's charge takes a few points of the window at once
 * (at most a quarter of the window's points shared among the workers, never more than 64; one
 * when the window is small) and spends them locally until they run out or their window ends, so a
 * busy worker asks the primary once per lease, not once per request. Points leased and not spent
 * are lost with their window: the global rate can be undershot by a lease per worker, and, since
 * a lease may outlive its window by less than a window, overshot by as much. The slots a worker
 * holds are released when it exits, so a worker killed mid-write leaves no slot taken.
 */
import type { AuthFailureVerdict, BruteForceRule } from '../domain/threats.js';
import type { RateKind, RateLimits, RateUsage, RateVerdict } from '../domain/rates.js';
import { rateAllowed } from '../domain/rates.js';
import { windowFor } from '../domain/rate-windows.js';
import type { Limiter, ProductSlots, WriteSlot } from '../storage/ports.js';

/** Points of one lease at most. */
const MAX_LEASE = 64;

/** What the primary answers a lease: points granted, the refusal if none, for how long. */
interface Lease {
  readonly granted: number;
  readonly refusal: RateVerdict | null;
  readonly ttlMs: number;
}

/** The points a worker holds of one rate (kind, product, limits). */
interface Held {
  left: number;
  until: number;
}

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
  /** Errors (a channel closed) go to `callback`, never to an 'error' event. */
  send?(
    message: unknown,
    sendHandle: undefined,
    options: undefined,
    callback: (error: Error | null) => void,
  ): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/** Why every call fails once the primary is gone (its process died, the channel closed). */
const NO_PRIMARY = 'the primary process is gone';

/** A slot's id travels instead of the slot: the primary keeps the slot itself. */
type SlotId = number;

function leaseId(kind: RateKind, product: string | null, limits: RateLimits): string {
  return `${kind}\u0000${product ?? ''}\u0000${limits.perSecond}\u0000${limits.productPerSecond}`;
}

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
  private readonly leases = new Map<string, Held>();
  private readonly asking = new Map<string, Promise<Lease>>();
  /** Set once the channel to the primary closed: every call fails from then on. */
  private gone = false;

  constructor(
    private readonly channel: Channel = process as Channel,
    private readonly now: () => number = Date.now,
  ) {
    channel.on('message', (message) => {
      if (!isReplies(message)) return;
      for (const reply of message.replies) this.settle(reply);
    });
    // The calls waiting for an answer will get none: they fail now (the gate then fails closed,
    // 503), instead of holding their requests until a forced exit.
    channel.on('disconnect', () => {
      this.gone = true;
      this.fail([...this.waiting.keys()]);
    });
  }

  private settle(reply: Reply): void {
    const settle = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    settle?.(reply);
  }

  private fail(ids: readonly number[]): void {
    for (const id of ids) this.settle({ id, error: NO_PRIMARY });
  }

  private call<T>(method: string, args: readonly unknown[]): Promise<T> {
    if (this.gone) return Promise.reject(new Error(`limiter: ${NO_PRIMARY}`));
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
    const ids = calls.map((call) => call.id);
    const send = this.channel.send?.bind(this.channel);
    if (this.gone || !send) return this.fail(ids);
    const message: LimiterCalls = { bucket: 'limiter', calls };
    // A channel that closed meanwhile answers through the callback (ERR_IPC_CHANNEL_CLOSED).
    send(message, undefined, undefined, (error) => {
      if (error) this.fail(ids);
    });
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

  async consume(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    const id = leaseId(kind, product, limits);
    for (;;) {
      const held = this.leases.get(id);
      if (held && held.left > 0 && this.now() < held.until) {
        held.left -= 1;
        return rateAllowed(kind, limits);
      }
      // One lease asked at a time per rate: the requests arriving meanwhile wait for it.
      const pending = this.asking.get(id);
      if (pending) {
        const lease = await pending;
        if (lease.granted === 0 && lease.refusal) return lease.refusal;
        continue;
      }
      const asked = this.call<Lease>('lease', [kind, product, limits]);
      this.asking.set(id, asked);
      let lease: Lease;
      try {
        lease = await asked;
      } finally {
        this.asking.delete(id);
      }
      if (lease.granted === 0) return lease.refusal ?? rateAllowed(kind, limits);
      this.leases.set(id, { left: lease.granted - 1, until: this.now() + lease.ttlMs });
      return rateAllowed(kind, limits);
    }
  }

  peek(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    const id = leaseId(kind, product, limits);
    const held = this.leases.get(id);
    if (held && held.left > 0 && this.now() < held.until) {
      return Promise.resolve(rateAllowed(kind, limits));
    }
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

  constructor(
    private readonly limiter: Limiter,
    /** Workers sharing the rates: a lease is a share of a quarter of a window among them. */
    private readonly workers: number,
  ) {}

  /** Up to a lease's worth of points, charged now; stops at the first refusal. */
  private async lease(kind: RateKind, product: string | null, limits: RateLimits): Promise<Lease> {
    const perSecond = Math.min(limits.perSecond, limits.productPerSecond ?? Infinity);
    const window = windowFor(perSecond);
    const size = Math.max(
      1,
      Math.min(MAX_LEASE, Math.floor(window.points / (4 * Math.max(1, this.workers)))),
    );
    let granted = 0;
    while (granted < size) {
      const verdict = await this.limiter.consume(kind, product, limits);
      if (!verdict.allowed) {
        return granted === 0
          ? { granted, refusal: verdict, ttlMs: 0 }
          : { granted, refusal: null, ttlMs: window.windowMs };
      }
      granted += 1;
    }
    return { granted, refusal: null, ttlMs: size === 1 ? 0 : window.windowMs };
  }

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
      case 'lease':
        return this.lease(a[0], a[1], a[2]);
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
