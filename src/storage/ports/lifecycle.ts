/** The metadata store itself: opening, health, snapshots, the change stamp, settings. */
/** Syncs of an adapter that syncs its own writes (`MetadataStore.durability`). */
export interface DurabilityStats {
  /** Syncs completed (or failed) since the store opened. */
  readonly syncs: number;
  /** Their total duration in seconds. */
  readonly syncSeconds: number;
}

/** The store itself: opening, health, consistency, settings, and what its callers may rely on. */
export interface StoreLifecycle {
  readonly kind: string;
  /**
   * Whether other processes (the nodes of a scale-out Bucket) write the same store: caches of
   * keys, policies, integrations and suspensions must then follow `changeStamp()`. A store only
   * this process writes (the embedded one, behind the data directory's lock) needs no polling.
   */
  readonly sharedByNodes: boolean;
  /**
   * Where the store can tell cheaply, without a round trip, that another process committed (the
   * embedded store's worker processes, issue 21): a watch answering true once after each such
   * commit. Caches then check `changeStamp()` before a request instead of at the next poll.
   */
  watchOtherWriters?(): () => boolean;
  /** Applies migrations; refuses a database newer than this code knows. */
  init(): Promise<void>;
  /**
   * Runs `fn` against one consistent state of the store (a snapshot), while other processes may
   * keep appending: every read `fn` makes — auditSize() first — sees the same committed state.
   * For verification; adapters may require a store opened for reading only.
   */
  withReadSnapshot<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * The syncs that make commits durable before they are acknowledged, for `/metrics` — where the
   * adapter makes them itself (the embedded store's WAL syncs); a database that syncs at COMMIT
   * has none to report.
   */
  durability?(): DurabilityStats;
  /**
   * A value that changes whenever keys, policy versions, integrations or key suspensions change,
   * on any node: caches of those compare it to know when to reload.
   */
  changeStamp(): Promise<string>;
  /** A live round trip to the store; resolves with nothing or rejects. */
  ping(): Promise<void>;
  close(): Promise<void>;

  getSetting(key: string): Promise<string | null>;
  /** Sets `key` only if it has no value yet; returns the value now stored. */
  setSettingOnce(key: string, value: string): Promise<string>;
}
