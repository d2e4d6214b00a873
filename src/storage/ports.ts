/**
 * Storage ports. Services talk only to these interfaces; adapters (sqlite, fs, memory, and later
 * postgres, s3, redis) implement them. Every method is asynchronous so that network-backed
 * adapters drop in without touching services or routes.
 */
import type { SubjectVersion } from '../domain/subjects.js';
import type { Readable } from 'node:stream';
import type { ArtifactKey, ArtifactVersion, Retention } from '../domain/artifact.js';
import type { LegalHold } from '../domain/holds.js';
import type { PurgeReason } from '../domain/retention.js';
import type { PolicyVersion } from '../domain/policy.js';
import type { KeyRecord } from '../domain/principal.js';
import type { AuthFailureVerdict, BruteForceRule } from '../domain/threats.js';
import type { IntegrationRecord } from '../domain/integration.js';
import type { KeySuspension, ThreatRecord } from '../domain/threats.js';
import type { CommitRefusal } from '../domain/commit.js';
import type { ProductUsage, StorageLimits, UsageFacts } from '../domain/usage.js';
import type { RateKind, RateLimits, RateUsage, RateVerdict } from '../domain/rates.js';
import type { AuditDraft, AuditReceipt } from '../audit/entry.js';
import type { SubtreeId } from '../audit/compact.js';
import type { EntryColumns } from '../audit/entry-columns.js';
import type { StoredEvent } from '../domain/events.js';
import type { Incident, Mode, ModeState } from '../domain/modes.js';
import type { ExceptionStore } from './exception-port.js';
import type { DeliveryAttempt, DeliveryProgress, WebhookRecord } from '../domain/webhooks.js';

export type { ProductUsage, StorageLimits, UsageFacts } from '../domain/usage.js';

export interface ListArtifactsQuery {
  readonly product: string;
  readonly class?: string | undefined;
  readonly prefix?: string | undefined;
  /** Exclusive lower bound in (class, name) order, from a cursor. */
  readonly after?: { class: string; name: string } | undefined;
  readonly limit: number;
}

export interface VersionForRead {
  readonly version: ArtifactVersion;
  /** The bytes when the version is stored inline, else null. */
  readonly inline: Buffer | null;
}

/** A version as verification reads it (`allVersions`). */
export interface StoredVersion extends VersionForRead {
  /**
   * The salt of the facts hash its allowing entry carries (audit/version-facts.ts); null for a
   * version written before entries carried one, and once an erasure has destroyed it.
   */
  readonly factsSalt: Buffer | null;
}

/** A new version to commit, with the head version the gate decided against. */
export interface VersionCommit {
  readonly version: ArtifactVersion;
  /** The current head version the decision was made against; 0 when the name did not exist. */
  readonly expectedCurrentVersion: number;
  /** The bytes when `version.storage === 'inline'`. */
  readonly inline: Buffer | null;
  /** The salt of the version's facts hash in its audit entry (audit/version-facts.ts). */
  readonly factsSalt: Buffer;
  /** When present, the commit is refused (`insufficient_storage`) if it would exceed them. */
  readonly limits?: StorageLimits;
  /** The decision that allowed the write: appended to the audit log in the same transaction. */
  readonly audit: AuditDraft;
}

export type CommitResult = { ok: true; usage?: UsageFacts; receipt: AuditReceipt } | CommitRefusal;

/**
 * The audit entry of the decision that allowed a governance change (a key, a policy, an
 * integration, a suspension lifted). A mutation given one appends it in the change's own
 * transaction, after the change, and sets `receipt` once both have committed: the log never holds
 * the allow without the change, nor the change without its allow (SPEC §6).
 */
export interface ChangeEntry {
  readonly draft: AuditDraft;
  receipt: AuditReceipt | null;
}

/** An audit entry as stored: its exact canonical bytes and its leaf hash (SPEC §6). */
export interface StoredAuditEntry {
  readonly index: number;
  readonly canonical: Buffer;
  readonly leafHash: Buffer;
}

/** An entry with the columns it is indexed by (audit/entry-columns.ts), for verification. */
export interface IndexedAuditEntry extends StoredAuditEntry {
  readonly columns: EntryColumns;
}

/** The filters of `GET /v1/audit/entries` (SPEC §6), in index order. */
export interface AuditQuery {
  readonly artifact?: { product: string; class: string; name: string } | undefined;
  readonly principal?: string | undefined;
  readonly allow?: boolean | undefined;
  readonly threat?: string | undefined;
  /** ISO-8601: entries at or after this time. */
  readonly since?: string | undefined;
  /** Exclusive lower bound on the index (from a cursor). */
  readonly afterIndex?: number | undefined;
  /** Inclusive upper bound on the index: where a bounded scan of the log stops. */
  readonly throughIndex?: number | undefined;
  /** Only entries whose principal belongs to this product or whose target is in its namespace. */
  readonly visibleTo?: string | undefined;
  readonly limit: number;
}

export interface StoredCheckpoint {
  readonly size: number;
  readonly rootHash: Buffer;
  /** The signed note text. */
  readonly note: string;
  readonly createdAt: string;
}

/** The audit log's storage: entries, the tree's stored subtrees, checkpoints (SPEC §6). */
export interface AuditStore {
  /**
   * Appends entries in index order, each with its tree update, in one transaction (shared with
   * concurrent appends and version commits); resolves once durable.
   */
  appendAudit(drafts: readonly AuditDraft[]): Promise<AuditReceipt[]>;
  /** The number of committed entries: the tree size. */
  auditSize(): Promise<number>;
  /** The hashes of stored complete subtrees (level 0 = leaves); rejects when one does not exist. */
  auditSubtrees(ids: readonly SubtreeId[]): Promise<Buffer[]>;
  auditEntry(index: number): Promise<StoredAuditEntry | null>;
  auditEntries(query: AuditQuery): Promise<StoredAuditEntry[]>;
  /** Entries [from, to) in index order, read in pages. */
  auditRange(from: number, to: number): AsyncIterable<StoredAuditEntry>;
  /** The same with each entry's indexed columns, for verification. */
  auditRangeIndexed(from: number, to: number): AsyncIterable<IndexedAuditEntry>;
  /** Stores a checkpoint; one per tree size (a second one for the same size is ignored). */
  insertCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  latestCheckpoint(): Promise<StoredCheckpoint | null>;
  /** Every stored checkpoint, smallest size first. */
  checkpoints(): AsyncIterable<StoredCheckpoint>;
}

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

/**
 * Keys (hashes only). A change given a `ChangeEntry` appends it in the change's own transaction;
 * every change moves the change stamp.
 */
export interface KeyStore {
  insertKey(key: KeyRecord, entry?: ChangeEntry): Promise<void>;
  findKeyByHash(hash: string): Promise<KeyRecord | null>;
  getKey(id: string): Promise<KeyRecord | null>;
  listKeys(): Promise<KeyRecord[]>;
  /** Marks the key revoked; returns the updated record, or null when it does not exist. */
  revokeKey(id: string, at: string, entry?: ChangeEntry): Promise<KeyRecord | null>;
  /** Replaces the secret hash of a key (the owner key supplied by configuration). */
  setKeyHash(id: string, hash: string): Promise<void>;
}

/** Policy versions: every stored version, the newest live. */
export interface PolicyStore {
  latestPolicy(): Promise<PolicyVersion | null>;
  insertPolicy(policy: PolicyVersion, entry?: ChangeEntry): Promise<void>;
  /** Every policy version, oldest first. */
  listPolicies(): Promise<PolicyVersion[]>;
  getPolicy(version: number): Promise<PolicyVersion | null>;
}

/** Artifacts: heads, versions, inline contents and the usage counters they move. */
export interface ArtifactStore {
  /** Whether any artifact (tombstoned ones included) is stored for the product, or of the class. */
  hasArtifacts(where: { product: string } | { class: string }): Promise<boolean>;
  /** The newest version of an artifact (a tombstone included), or null. */
  getHead(key: ArtifactKey): Promise<ArtifactVersion | null>;
  getVersion(key: ArtifactKey, version: number): Promise<ArtifactVersion | null>;
  /** The bytes of an inline version. */
  readInline(key: ArtifactKey, version: number): Promise<Buffer | null>;
  /**
   * A version (the head when `version` is undefined) with its inline bytes in one round trip —
   * the read path of small contents.
   */
  getForRead(key: ArtifactKey, version?: number): Promise<VersionForRead | null>;
  listVersions(key: ArtifactKey): Promise<ArtifactVersion[]>;
  /** Heads of live (not tombstoned) artifacts in (class, name) order. */
  listArtifacts(query: ListArtifactsQuery): Promise<ArtifactVersion[]>;
  /**
   * Atomically, with the commit rule (domain/commit.ts): checks the head and the storage limits,
   * appends the version, moves the head, updates usage counters, appends its audit entry.
   */
  commitVersion(commit: VersionCommit): Promise<CommitResult>;
  usage(product: string): Promise<ProductUsage>;
  /** The product's usage and the Bucket's total, from the counters (never a scan of versions). */
  usageFacts(product: string): Promise<UsageFacts>;
  /** Usage of every product with stored artifacts (the metrics gauges). */
  usageByProduct(): Promise<Record<string, ProductUsage>>;
  /** Whether any version keeps its content `sha256` in the blob store (not inline in its row). */
  isContentReferenced(sha256: string): Promise<boolean>;
  /** Every stored artifact version with its inline bytes and salt, for verification. */
  allVersions(): AsyncIterable<StoredVersion>;
  /**
   * Every version of a data subject still holding content (no tombstone, no purge), a page at a
   * time from the subject index, in (product, class, name, version) order (SPEC §8 DSAR).
   */
  subjectVersions(subject: string): AsyncIterable<SubjectVersion>;
}

/** Integrations (SPEC §4.2), threat records and key suspensions (SPEC §5). */
export interface GovernanceStore {
  insertIntegration(record: IntegrationRecord, entry?: ChangeEntry): Promise<void>;
  /** An integration by its product and id: ids are scoped by product. */
  getIntegration(product: string, id: string): Promise<IntegrationRecord | null>;
  listIntegrations(): Promise<IntegrationRecord[]>;
  /**
   * Atomically revokes the integration and every key bound to it; returns the integration and the
   * keys revoked by this call, or null when it does not exist.
   */
  revokeIntegration(
    product: string,
    id: string,
    at: string,
    entry?: ChangeEntry,
  ): Promise<{ integration: IntegrationRecord; revokedKeys: KeyRecord[] } | null>;

  insertThreatRecords(records: readonly ThreatRecord[]): Promise<void>;
  /** Distinct requests of a principal with a counted CRITICAL detection since `since`. */
  countCriticalRequests(principalId: string, since: string): Promise<number>;
  /** Detections per threat id, since `since` (or ever when null). */
  threatCounts(since: string | null): Promise<Record<string, number>>;
  /** The newest detections first. */
  recentThreats(limit: number): Promise<ThreatRecord[]>;
  suspendKey(suspension: KeySuspension): Promise<void>;
  /** Lifts a suspension; false when the key was not suspended. */
  reinstateKey(keyId: string, entry?: ChangeEntry): Promise<boolean>;
  listSuspensions(): Promise<KeySuspension[]>;
}

/** Where a page of the retention sweep's candidates ends: the last one's place in the index. */
export interface DueCursor {
  readonly until: string;
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
}

/** How a hold is lifted (SPEC §8: history kept). */
export interface HoldLift {
  readonly at: string;
  readonly by: string;
  readonly reason: string;
}

/**
 * Retention and legal holds (SPEC §8): holds (each change moves the change stamp, so every node's
 * cache follows), retention changes, the sweep's candidates and purges.
 */
export interface RetentionStore {
  insertHold(hold: LegalHold, entry?: ChangeEntry): Promise<void>;
  /** Lifts an active hold; returns it lifted, or null when no active hold has this id. */
  liftHold(id: string, lift: HoldLift, entry?: ChangeEntry): Promise<LegalHold | null>;
  /** Every hold ever placed (lifted ones too), oldest first. */
  listHolds(): Promise<LegalHold[]>;
  /**
   * Sets one version's retention; returns the version as it now stands, or null when it does not
   * exist.
   */
  setRetention(
    key: ArtifactKey,
    version: number,
    retention: Retention,
    entry?: ChangeEntry,
  ): Promise<ArtifactVersion | null>;
  /**
   * Versions whose content is still stored and whose retention ended at or before `now`, in the
   * order of the retention index, after `after`: a page of the sweep's candidates (an index range
   * scan, whatever the number of versions not due).
   */
  retentionDue(now: string, after: DueCursor | null, limit: number): Promise<ArtifactVersion[]>;
  /**
   * Removes a version's content from the metadata store (inline bytes; a blob is the caller's to
   * remove once no version references it) and records the purge, with its entry and its event in
   * the same transaction; the version row stays. Returns the purged version, or null when it was
   * purged (or is gone) meanwhile.
   */
  purgeVersion(
    key: ArtifactKey,
    version: number,
    purge: { readonly at: string; readonly reason: PurgeReason },
    entry: ChangeEntry,
  ): Promise<ArtifactVersion | null>;
  /**
   * Runs `fn` while this process holds the named lease among every process sharing the store;
   * resolves null at once when another holds it (one sweep at a time across nodes).
   */
  exclusively<T>(lease: string, fn: () => Promise<T>): Promise<T | null>;
}

/** A switch of the mode: the state it makes and the mode it leaves (SPEC §9). */
export interface ModeSwitch {
  readonly state: ModeState;
  readonly previous: Mode;
}

/**
 * The Bucket's mode and its incidents (SPEC §9). Every change moves the change stamp (other nodes
 * reload the mode), appends its entry when given one and its events, in one transaction.
 */
export interface ModeStore {
  /** The stored mode, or null when the Bucket was never switched (it runs in `normal`). */
  currentMode(): Promise<ModeState | null>;
  /** Stores a switch, with `bucket.mode.changed`. */
  setMode(change: ModeSwitch, entry?: ChangeEntry): Promise<void>;
  /**
   * Stores a new open incident and, when given, the switch its opening makes, with
   * `bucket.incident.opened` (and `bucket.mode.changed`).
   */
  openIncident(incident: Incident, change: ModeSwitch | null, entry?: ChangeEntry): Promise<void>;
  /**
   * Resolves an open incident, with `bucket.incident.resolved`. Null when there is no such
   * incident; `resolvedNow` false (nothing changed, nothing appended) when it was resolved already.
   */
  resolveIncident(
    id: string,
    resolution: { at: string; by: string; resolution: string },
    entry?: ChangeEntry,
  ): Promise<{ incident: Incident; resolvedNow: boolean } | null>;
  /** Incidents, the newest first; only those of `status` when given. */
  listIncidents(status?: Incident['status']): Promise<Incident[]>;
}

/** The filters of `GET /v1/events` (SPEC §10), in cursor order. */
export interface EventQuery {
  /** Exclusive lower bound on the cursor. */
  readonly since: number;
  readonly limit: number;
  /** Only events whose type starts with it. */
  readonly typePrefix?: string | undefined;
  /** Only events whose `bucketproduct` is it. */
  readonly product?: string | undefined;
}

/**
 * The event outbox (SPEC §10). There is no append here: every change of the other ports writes its
 * events in its own transaction (so an event exists iff its change committed), numbered under the
 * lock that serializes audit appends — a reader never sees cursor n+1 before n.
 */
export interface EventStore {
  /** Events after `query.since`, oldest first, of those committed (and durable). */
  events(query: EventQuery): Promise<StoredEvent[]>;
  /** The newest readable cursor; 0 when there is none. */
  latestEventId(): Promise<number>;
  /**
   * Calls `listener` whenever events may have been committed (by this process at once, by other
   * nodes within a moment); returns the function that stops it. Listeners are isolated from each
   * other's failures.
   */
  watchEvents(listener: () => void): () => void;
}

/** What one delivery attempt leaves: its row in the log and where the webhook stands after it. */
export interface AttemptRecord {
  readonly attempt: Omit<DeliveryAttempt, 'id' | 'webhookId'>;
  readonly progress: DeliveryProgress;
}

/** A dispatcher's claim of due webhooks (`WebhookStore.claimWebhooks`); times in ms. */
export interface WebhookClaim {
  readonly owner: string;
  readonly now: number;
  readonly leaseUntil: number;
  readonly latestEventId: number;
  readonly limit: number;
}

/**
 * Webhooks (SPEC §10) and their delivery state: the cursor, the next attempt, the failures — in
 * the database, so that a restart or another node continues. A node delivers a webhook only while
 * it holds the webhook's lease (`claimWebhooks`): exactly one node at a time. Every write of a
 * dispatcher names its lease owner and changes nothing once the lease is another's.
 */
export interface WebhookStore {
  /** Stores a new webhook; its `bucket.webhook.created` event and allow entry in the same change. */
  insertWebhook(record: WebhookRecord, entry?: ChangeEntry): Promise<void>;
  getWebhook(id: string): Promise<WebhookRecord | null>;
  /** Every webhook, oldest first. */
  listWebhooks(): Promise<WebhookRecord[]>;
  /** Deletes a webhook and its delivery log; returns what it was, or null when it did not exist. */
  deleteWebhook(id: string, entry?: ChangeEntry): Promise<WebhookRecord | null>;
  /**
   * Leases, to `owner` until `leaseUntil` (ms), up to `limit` enabled webhooks that are due at
   * `now` and behind `latestEventId`, whose lease is free, expired or already `owner`'s.
   */
  claimWebhooks(claim: WebhookClaim): Promise<WebhookRecord[]>;
  /** Moves the webhook past events it does not want; false when the lease is not `owner`'s. */
  advanceWebhook(id: string, owner: string, progress: DeliveryProgress): Promise<boolean>;
  /** Logs an attempt and moves the webhook's state; false (nothing written) without the lease. */
  recordAttempt(id: string, owner: string, record: AttemptRecord): Promise<boolean>;
  /** Disables the webhook with its `bucket.webhook.disabled` event; false without the lease. */
  disableWebhook(id: string, owner: string, at: string, reason: string): Promise<boolean>;
  /** Gives the lease back (the webhook has nothing due, or the node stops). */
  releaseWebhook(id: string, owner: string): Promise<void>;
  /** The webhook's attempts after the attempt id `after`, oldest first. */
  webhookDeliveries(id: string, after: number, limit: number): Promise<DeliveryAttempt[]>;
}

/**
 * The metadata store: every concept's port over one database, so that an audit entry commits with
 * the change it records. Services may ask for the one port they use; adapters implement one file
 * per port (`storage/<adapter>/keys.ts`, …) and compose them. Later concepts (events, runs) join
 * as ports of their own.
 */
export interface MetadataStore
  extends
    StoreLifecycle,
    KeyStore,
    PolicyStore,
    ArtifactStore,
    GovernanceStore,
    AuditStore,
    EventStore,
    RetentionStore,
    ModeStore,
    WebhookStore,
    ExceptionStore {}

/** A content being written to the blob store: bytes go to a temporary place until `commit`. */
export interface BlobWriter {
  write(chunk: Buffer): Promise<void>;
  /** Makes the bytes durable and addressable as `sha256`. */
  commit(sha256: string): Promise<void>;
  /** Discards everything written; safe to call more than once and after a failed commit. */
  abort(): Promise<void>;
}

export interface ByteRange {
  /** Inclusive first byte. */
  readonly start: number;
  /** Inclusive last byte. */
  readonly end: number;
}

export interface BlobStore {
  readonly kind: string;
  /** Prepares the store and removes temporaries left by an interrupted process. */
  init(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  createWriter(): Promise<BlobWriter>;
  /** Streams a content (or part of it); rejects when it does not exist. */
  read(sha256: string, range?: ByteRange): Promise<Readable>;
  exists(sha256: string): Promise<boolean>;
  /** Stored contents last written before `before` (ms since the epoch), with that time. */
  contentsBefore(before: number): AsyncIterable<{ sha256: string; modified: number }>;
  /**
   * Deletes a stored content if it is still last-modified before `before` — a write storing the
   * same bytes meanwhile renews it, and keeps it. Answers whether it was deleted.
   */
  removeIfOlder(sha256: string, before: number): Promise<boolean>;
}

/** A held write slot; `release` is idempotent. */
export interface WriteSlot {
  release(): void;
}

/** A product's cap on the write slots it holds at once. */
export interface ProductSlots {
  readonly product: string;
  readonly max: number;
}

export interface Limiter {
  readonly kind: string;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * A write slot, or null when `max` writes are already in flight — or, given a product, when
   * that product already holds its `product.max` of them (SPEC §2.3 `productWriteShare`).
   */
  tryAcquireWrite(max: number, product?: ProductSlots): Promise<WriteSlot | null>;
  /** Whether `tryAcquireWrite(max, product)` would succeed now; holds nothing (a dry run). */
  writeSlotFree(max: number, product?: ProductSlots): Promise<boolean>;
  writesInFlight(): Promise<number>;
  /**
   * Charges one artifact request to the rate of its kind (and to its product's share, if any);
   * limits that differ from the previous call take effect at once (SPEC §2.3).
   */
  consume(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict>;
  /** The verdict `consume` would give now, spending nothing and counting nothing (a dry run). */
  peek(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict>;
  /** Requests of each kind accepted over the last second. */
  rateUsage(): Promise<RateUsage>;
  /**
   * Counts a failed authentication (unknown, revoked or expired key) from `address` and says
   * whether that address is now blocked for failing keys (SPEC §5 T1 brute force).
   */
  recordAuthFailure(address: string, rule: BruteForceRule): Promise<AuthFailureVerdict>;
}
