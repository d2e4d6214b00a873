/**
 * Storage ports. Services talk only to these interfaces; adapters (sqlite, fs, memory, postgres,
 * s3, redis) implement them. Every method is asynchronous so that network-backed adapters drop in
 * without touching services or routes. Each port has its own file under `ports/`, mirroring the
 * adapters' one file per port; this module gathers them, so callers import from one place.
 */
import type { ArtifactStore } from './ports/artifacts.js';
import type { AuditStore } from './ports/audit.js';
import type { EventStore } from './ports/events.js';
import type { ExceptionStore } from './ports/exceptions.js';
import type { GovernanceStore } from './ports/governance.js';
import type { IntegrityStore } from './ports/integrity.js';
import type { KeyStore } from './ports/keys.js';
import type { StoreLifecycle } from './ports/lifecycle.js';
import type { ModeStore } from './ports/modes.js';
import type { PolicyStore } from './ports/policies.js';
import type { RetentionStore } from './ports/retention.js';
import type { RunStore } from './ports/runs.js';
import type { SubjectStore } from './ports/subjects.js';
import type { S3Store } from './ports/s3.js';
import type { WebhookStore } from './ports/webhooks.js';

export type { ProductUsage, StorageLimits, UsageFacts } from '../domain/usage.js';
export type * from './ports/artifacts.js';
export type * from './ports/audit.js';
export type * from './ports/blobs.js';
export type * from './ports/change-entry.js';
export type * from './ports/events.js';
export type * from './ports/exceptions.js';
export type * from './ports/governance.js';
export type * from './ports/integrity.js';
export type * from './ports/keys.js';
export type * from './ports/lifecycle.js';
export type * from './ports/limiter.js';
export type * from './ports/modes.js';
export type * from './ports/policies.js';
export type * from './ports/retention.js';
export type * from './ports/runs.js';
export type * from './ports/subjects.js';
export type * from './ports/s3.js';
export type * from './ports/webhooks.js';

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
    SubjectStore,
    ModeStore,
    WebhookStore,
    ExceptionStore,
    IntegrityStore,
    RunStore,
    S3Store {}
