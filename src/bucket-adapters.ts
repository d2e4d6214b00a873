/**
 * What `createBucket` may be given besides its configuration: adapters instead of the configured
 * stores, and the timings and clocks that tests shorten instead of waiting. No configuration sets
 * any of it.
 */
import type { Gate, GateOptions } from './gate/decide.js';
import type { RetrySchedule } from './domain/webhooks.js';
import type { ExecutionDeps } from './core/execute.js';
import type { Resolver } from './services/egress.js';
import type { ThrottleOptions } from './services/throttle.js';
import type { BlobStore, Limiter, MetadataStore } from './storage/ports.js';

export interface BucketAdapters {
  /**
   * The process id of the primary that holds the data directory's lock: this Bucket is one of its
   * workers (issue 21, src/cluster/), and takes no lock of its own.
   */
  readonly primaryPid?: number;
  readonly metadata?: MetadataStore;
  readonly blobs?: BlobStore;
  readonly limiter?: Limiter;
  readonly gate?: GateOptions;
  /** A ready gate instead of `new Gate(gate)` (the bench's no-op gate); no configuration sets it. */
  readonly gateInstance?: Gate;
  /**
   * Entries an audit query without an indexed filter reads at most (default AUDIT_SCAN_WINDOW):
   * tests make it small instead of writing a window's worth of requests; no configuration sets it.
   */
  readonly auditScanWindow?: number;
  /** Between the comment lines of an idle event stream (default 15 s); tests make it short. */
  readonly eventHeartbeatMs?: number;
  /**
   * The clock of versions' times, retention, the restore window, holds and the retention sweep
   * (ms since the epoch): tests move it instead of sleeping; no configuration sets it.
   */
  readonly now?: () => number;
  /** Between scheduled retention sweeps, instead of the configured minutes; tests make it short. */
  readonly retentionSweepIntervalMs?: number;
  /** Between scheduled scrubs, instead of the configured hours; and the scrub's throttle. */
  readonly scrubIntervalMs?: number;
  readonly scrubThrottle?: ThrottleOptions;
  /** Between drift checks (default 60 s). */
  readonly driftIntervalMs?: number;
  /** The code version drift baselines record (default the package's): tests play an upgrade. */
  readonly codeVersion?: string;
  /** How often expired exceptions are looked for (default 1000 ms). */
  readonly exceptionPollMs?: number;
  /** The event-loop delay in ms instead of measuring it (tests force shedding, SPEC §15). */
  readonly eventLoopDelayMs?: () => number;
  /**
   * Webhook delivery timing (SPEC §10 defaults: retries from 1 s, at most 1 h apart, for 24 h;
   * a poll every second, a 10 s limit per delivery) and name resolution: tests shorten the
   * schedule instead of waiting hours, and resolve names of their own; no configuration sets it.
   */
  readonly webhooks?: {
    readonly retry?: Partial<RetrySchedule>;
    readonly pollMs?: number;
    readonly leaseMs?: number;
    readonly timeoutMs?: number;
    readonly resolver?: Resolver;
  };
  /**
   * Core's run engine (SPEC §11): the remote built-ins' endpoints (default: the seed's variables),
   * how often it looks for runs, its lease, name resolution; tests shorten and replace them. The
   * bench is told of each succeeded step's overhead (`observeStep`).
   */
  readonly core?: {
    readonly endpoints?: Readonly<Record<string, string>>;
    readonly pollMs?: number;
    readonly leaseMs?: number;
    readonly resolver?: Resolver;
    readonly observeStep?: ExecutionDeps['observeStep'];
  };
}
