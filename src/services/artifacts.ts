/**
 * Artifact use cases (SPEC §3): every one builds its gate context and is decided before it touches
 * storage; writes stream through `ingest`, pass the body-phase decision, then commit atomically.
 */
import type { Readable } from 'node:stream';
import { retentionFor, type ArtifactKey, type ArtifactVersion } from '../domain/artifact.js';
import { threat, type Decision, type Threat } from '../domain/decision.js';
import { BucketError } from '../domain/errors.js';
import { minUploadRateOf, productWriteSlots, ruleOf } from '../domain/policy.js';
import { crossedThresholds, storageLimitsOf } from '../domain/usage.js';
import { rateLimitsOf, type RateKind, type RateVerdict } from '../domain/rates.js';
import { gateContext, type Preconditions } from '../gate/context.js';
import { JSON_MEDIA_TYPE, mediaTypeOf } from '../gate/stages/content.js';
import type {
  BlobStore,
  ByteRange,
  Limiter,
  MetadataStore,
  VersionCommit,
} from '../storage/ports.js';
import type { AuditReceipt } from '../audit/entry.js';
import type { Authorized, Authorizer, RequestInfo } from './authorize.js';
import { BodyTooLargeError, ingest, type Ingested } from './ingest.js';
import type { PolicyService } from './policies.js';

/** SHA-256 of zero bytes: the recorded digest of a tombstone. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const RESTORE_WINDOW_MS = 90 * 24 * 60 * 60 * 1000;
const DEFAULT_PAGE = 100;
/** Commits retried after concurrent writes moved the head, before answering 409. */
const MAX_COMMIT_ATTEMPTS = 20;

export interface PutArtifactRequest extends RequestInfo, ArtifactKey {
  readonly contentType: string | null;
  readonly declaredSize: number | null;
  readonly meta: Record<string, string>;
  readonly preconditions: Preconditions;
  readonly sha256Claim: string | null;
  readonly body: Readable;
  /** Called once the headers are accepted, just before the body is read (HTTP's 100 Continue). */
  readonly beforeBody?: () => void;
}

export interface WriteResult {
  readonly created: boolean;
  readonly version: ArtifactVersion;
  readonly decision: Decision;
  /** Where the decision that allowed the write sits in the audit log (SPEC §6 receipts). */
  readonly receipt: AuditReceipt;
}

/** Records what happened to a write after its decision allowed it (SPEC §6: never a success). */
export interface FailureRecorder {
  recordFailure(
    decision: Decision,
    requestId: string,
    failure: { status: number; code: string; message: string; threats?: Threat[] },
  ): Promise<unknown>;
}

export interface ReadResult {
  readonly version: ArtifactVersion;
  /** Opens the content, or the inclusive byte range of it. */
  open(range?: ByteRange): Promise<Readable | Buffer>;
}

export interface ListRequest extends RequestInfo {
  readonly product: string;
  readonly class?: string | undefined;
  readonly prefix?: string | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
}

export interface ListResult {
  readonly items: ArtifactVersion[];
  readonly nextCursor: string | null;
}

export interface ArtifactServiceOptions {
  /** Contents up to this size are kept inline in the metadata store. */
  readonly inlineMaxBytes: number;
  /**
   * Records T5 alerts that no gate decision carries: a usage threshold crossed by a commit, or a
   * commit refused by the in-transaction re-check of the storage limits.
   */
  readonly alert?: (request: RequestInfo, threats: Threat[]) => Promise<void>;
  /** The audit log, for writes that fail after they were allowed. */
  readonly failures?: FailureRecorder;
}

function encodeCursor(last: ArtifactVersion): string {
  return Buffer.from(JSON.stringify([last.class, last.name])).toString('base64url');
}

function decodeCursor(cursor: string): { class: string; name: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string'
    ) {
      return { class: value[0], name: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new BucketError('invalid_cursor', 'the cursor is not one this Bucket issued');
}

export class ArtifactService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly limiter: Limiter,
    private readonly policies: PolicyService,
    private readonly authorizer: Authorizer,
    private readonly options: ArtifactServiceOptions,
  ) {}

  async put(request: PutArtifactRequest): Promise<WriteResult> {
    const rate = await this.chargeRate('write', request.product);
    const slot = await this.acquireWriteSlot(rate, request.product);
    try {
      return await this.putWithSlot(request, slot !== null, rate);
    } finally {
      slot?.release();
    }
  }

  /** Charges the request to its rate; the gate's limits stage decides on the verdict (T5). */
  private chargeRate(kind: RateKind, product: string): Promise<RateVerdict> {
    return this.limiter
      .consume(kind, product, rateLimitsOf(this.policies.current().document, kind, product))
      .catch(limiterUnavailable);
  }

  /**
   * A write slot within the product's share of them (SPEC §2.3), unless the rate already refused
   * the write (it then holds none).
   */
  private async acquireWriteSlot(rate: RateVerdict, product: string) {
    if (!rate.allowed) return null;
    const limits = this.policies.current().document.limits;
    return this.limiter
      .tryAcquireWrite(limits.concurrentWrites, { product, max: productWriteSlots(limits) })
      .catch(limiterUnavailable);
  }

  private async putWithSlot(
    request: PutArtifactRequest,
    writeSlot: boolean,
    rate: RateVerdict,
  ): Promise<WriteResult> {
    const key = { product: request.product, class: request.class, name: request.name };
    const usage = await this.metadata.usageFacts(request.product);
    const ctx = this.authorizer.context(request, 'artifact.write', {
      product: request.product,
      class: request.class,
      name: request.name,
      contentType: request.contentType,
      declaredSize: request.declaredSize,
      meta: request.meta,
      preconditions: request.preconditions,
      sha256Claim: request.sha256Claim,
      writeSlot,
      usage,
      rate,
    });
    const headerOutcome = await this.authorizer.require(ctx, () => this.loadTarget(key), {
      defer: true,
    });
    try {
      return await this.receiveAndCommit(request, ctx, headerOutcome);
    } catch (error) {
      await this.recordFailure(request, headerOutcome.decision, error);
      throw error;
    }
  }

  /**
   * A write that fails after an allowed decision leaves a failure entry: a denial already has its
   * own entry (it carries its decision); anything else — a conflict, a refused commit, a broken
   * stream — is recorded as the failure it is.
   */
  private async recordFailure(request: RequestInfo, allowed: Decision, error: unknown) {
    if (!this.options.failures) return;
    if (error instanceof BucketError && error.decision) return;
    const failure =
      error instanceof BucketError
        ? { status: error.status, code: error.code, message: error.message }
        : { status: 500, code: 'internal_error', message: 'the write failed before it committed' };
    const threats =
      error instanceof BucketError && error.code === 'insufficient_storage'
        ? [threat('T5', error.message)]
        : [];
    try {
      await this.options.failures.recordFailure(allowed, request.requestId, {
        ...failure,
        threats,
      });
    } catch {
      // The original error is the answer; a failing store shows on /health.
    }
  }

  private async receiveAndCommit(
    request: PutArtifactRequest,
    ctx: ReturnType<Authorizer['context']>,
    headerOutcome: Authorized,
  ): Promise<WriteResult> {
    const key = { product: request.product, class: request.class, name: request.name };
    const classRule = ruleOf(ctx.policy.document.classes, request.class);
    const media = mediaTypeOf(request.contentType);
    // The gate inspects JSON bodies, so they are received whole (at most the class maximum).
    const inspect = media === JSON_MEDIA_TYPE;
    let received: Ingested;
    request.beforeBody?.();
    try {
      received = await ingest(request.body, this.blobs, {
        limit: headerOutcome.bodyLimit ?? ctx.policy.document.limits.maxArtifactBytes,
        buffer: inspect,
        inlineMax: this.options.inlineMaxBytes,
        minimumRate: { bytesPerSecond: minUploadRateOf(ctx.policy.document.limits) },
      });
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      const tooLarge = await this.authorizer.require(
        gateContext(ctx, ctx.target, { size: error.size, sha256: '', bytes: null }),
      );
      // Unreachable unless the gate's limit and the ingest limit disagree: fail closed.
      throw new BucketError('payload_too_large', undefined, { decision: tooLarge.decision });
    }
    const content = {
      size: received.size,
      sha256: received.sha256,
      bytes: inspect ? received.bytes : null,
    };
    const inline = received.bytes !== null && received.size <= this.options.inlineMaxBytes;
    const conditional =
      request.preconditions.ifNoneMatch || request.preconditions.ifVersion !== null;
    let target = ctx.target ?? { head: null };
    let blobStored = false;
    try {
      for (let attempt = 1; ; attempt++) {
        const final = await this.authorizer.require(gateContext(ctx, target, content), undefined, {
          defer: true,
        });
        const head = target.head;
        const createdAt = new Date().toISOString();
        const version: ArtifactVersion = {
          product: key.product,
          class: key.class,
          name: key.name,
          version: (head?.version ?? 0) + 1,
          sha256: received.sha256,
          size: received.size,
          contentType: request.contentType ?? defaultContentType(classRule?.content),
          meta: request.meta,
          createdAt,
          createdBy: request.principal.id,
          retention: retentionFor(
            classRule?.retention ?? { mode: 'none', period: null },
            createdAt,
          ),
          tombstone: false,
          storage: inline ? 'inline' : 'blob',
        };
        if (!inline && !blobStored) {
          await this.storeBlob(received);
          blobStored = true;
        }
        const result = await this.commitWithinLimits(request, {
          version,
          expectedCurrentVersion: head?.version ?? 0,
          inline: inline ? received.bytes : null,
          audit: auditDraft(request, final.decision, version),
        });
        if (result.ok) {
          return {
            created: head === null,
            version,
            decision: final.decision,
            receipt: result.receipt,
          };
        }
        // Another write moved the head after the decision. An unconditional write is decided
        // again against the new head (a write-once class now refuses it as an UPDATE); a
        // conditional one answers with the conflict it asked to be told about.
        if (conditional || attempt >= MAX_COMMIT_ATTEMPTS)
          throw conflictError(version, result.current);
        target = await this.loadTarget(key);
      }
    } finally {
      await received.writer?.abort();
    }
  }

  /** Makes the received bytes durable in the blob store under their SHA-256. */
  private async storeBlob(received: Ingested): Promise<void> {
    if (received.writer) {
      await received.writer.commit(received.sha256);
      return;
    }
    // Buffered for inspection but too large to keep inline.
    const writer = await this.blobs.createWriter();
    try {
      await writer.write(received.bytes ?? Buffer.alloc(0));
      await writer.commit(received.sha256);
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  private async commit(
    request: RequestInfo,
    decision: Decision,
    version: ArtifactVersion,
    expectedCurrentVersion: number,
    inline: Buffer | null,
  ): Promise<AuditReceipt> {
    const result = await this.commitWithinLimits(request, {
      version,
      expectedCurrentVersion,
      inline,
      audit: auditDraft(request, decision, version),
    });
    if (!result.ok) throw conflictError(version, result.current);
    return result.receipt;
  }

  /**
   * Commits with the storage limits re-checked inside the transaction (507 when racing writes
   * used the room the gate saw), and alerts on the usage thresholds the commit crossed (T5).
   */
  private async commitWithinLimits(
    request: RequestInfo,
    commit: Omit<VersionCommit, 'limits'>,
  ): Promise<{ ok: true; receipt: AuditReceipt } | { ok: false; current: number }> {
    const document = this.policies.current().document;
    const product = commit.version.product;
    const limits = storageLimitsOf(document, product);
    const result = await this.metadata.commitVersion({
      version: commit.version,
      expectedCurrentVersion: commit.expectedCurrentVersion,
      inline: commit.inline,
      audit: commit.audit,
      limits,
    });
    if (!result.ok && result.reason === 'insufficient_storage') {
      await this.options.alert?.(request, [threat('T5', result.message)]);
      throw new BucketError('insufficient_storage', result.message);
    }
    if (!result.ok) return result;
    if (result.usage && this.options.alert) {
      const after = result.usage;
      const added = commit.expectedCurrentVersion === 0 ? 1 : 0;
      const size = commit.version.size;
      const before = {
        product: { bytes: after.product.bytes - size, artifacts: after.product.artifacts - added },
        total: { bytes: after.total.bytes - size, artifacts: after.total.artifacts - added },
      };
      const capacity = document.limits.storageCapacityBytes;
      const alerts = crossedThresholds(before, after, limits, capacity, product);
      if (alerts.length > 0) {
        await this.options.alert(
          request,
          alerts.map((evidence) => threat('T5', evidence)),
        );
      }
    }
    return { ok: true, receipt: result.receipt };
  }

  private async loadTarget(key: ArtifactKey) {
    return { head: await this.metadata.getHead(key) };
  }

  async read(
    request: RequestInfo & ArtifactKey & { version?: number | undefined; content: boolean },
  ): Promise<ReadResult> {
    const key = { product: request.product, class: request.class, name: request.name };
    const rate = await this.chargeRate('read', key.product);
    await this.authorizer.require(
      this.authorizer.context(request, request.content ? 'artifact.read' : 'artifact.head', {
        product: key.product,
        class: key.class,
        name: key.name,
        rate,
      }),
    );
    const found = await this.metadata.getForRead(key, request.version);
    if (!found) {
      throw request.version === undefined
        ? new BucketError('artifact_not_found', `no artifact ${request.class}/${request.name}`)
        : new BucketError('version_not_found', `no version ${request.version} of ${request.name}`);
    }
    const { version, inline } = found;
    if (version.tombstone) {
      throw new BucketError(
        'artifact_deleted',
        `${request.name} is deleted (version ${version.version}); restore it or ask for an earlier version`,
      );
    }
    return {
      version,
      open: async (range) => {
        if (version.storage === 'inline') {
          const bytes = inline ?? Buffer.alloc(0);
          return range ? bytes.subarray(range.start, range.end + 1) : bytes;
        }
        return this.blobs.read(version.sha256, range);
      },
    };
  }

  async versions(request: RequestInfo & ArtifactKey): Promise<ArtifactVersion[]> {
    const key = { product: request.product, class: request.class, name: request.name };
    const rate = await this.chargeRate('read', key.product);
    await this.authorizer.require(
      this.authorizer.context(request, 'artifact.versions', { ...key, rate }),
    );
    const versions = await this.metadata.listVersions(key);
    if (versions.length === 0) {
      throw new BucketError('artifact_not_found', `no artifact ${request.class}/${request.name}`);
    }
    return versions;
  }

  async list(request: ListRequest): Promise<ListResult> {
    const rate = await this.chargeRate('read', request.product);
    await this.authorizer.require(
      this.authorizer.context(request, 'artifact.list', {
        product: request.product,
        class: request.class ?? null,
        rate,
      }),
    );
    const pageMax = this.policies.current().document.limits.listPageMax;
    const limit = Math.max(1, Math.min(request.limit ?? DEFAULT_PAGE, pageMax));
    const items = await this.metadata.listArtifacts({
      product: request.product,
      class: request.class,
      prefix: request.prefix,
      after: request.cursor === undefined ? undefined : decodeCursor(request.cursor),
      limit: limit + 1,
    });
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page, nextCursor: items.length > limit && last ? encodeCursor(last) : null };
  }

  async delete(request: RequestInfo & ArtifactKey): Promise<WriteResult> {
    return this.writeMarker(request, 'artifact.delete');
  }

  async restore(request: RequestInfo & ArtifactKey): Promise<WriteResult> {
    return this.writeMarker(request, 'artifact.restore');
  }

  /** A tombstone (delete) or the undoing of one (restore): new versions, never erasure. */
  private async writeMarker(
    request: RequestInfo & ArtifactKey,
    action: 'artifact.delete' | 'artifact.restore',
  ): Promise<WriteResult> {
    const key = { product: request.product, class: request.class, name: request.name };
    const rate = await this.chargeRate('write', key.product);
    const slot = await this.acquireWriteSlot(rate, key.product);
    try {
      const ctx = this.authorizer.context(request, action, {
        product: key.product,
        class: key.class,
        name: key.name,
        writeSlot: slot !== null,
        rate,
      });
      const outcome = await this.authorizer.require(ctx, () => this.loadTarget(key), {
        defer: true,
      });
      try {
        return await this.commitMarker(request, action, ctx, outcome.decision);
      } catch (error) {
        await this.recordFailure(request, outcome.decision, error);
        throw error;
      }
    } finally {
      slot?.release();
    }
  }

  private async commitMarker(
    request: RequestInfo & ArtifactKey,
    action: 'artifact.delete' | 'artifact.restore',
    ctx: ReturnType<Authorizer['context']>,
    decision: Decision,
  ): Promise<WriteResult> {
    {
      const key = { product: request.product, class: request.class, name: request.name };
      const head = ctx.target?.head ?? null;
      if (!head)
        throw new BucketError('artifact_not_found', `no artifact ${key.class}/${key.name}`);
      const createdAt = new Date().toISOString();
      let version: ArtifactVersion;
      let inline: Buffer | null = null;
      if (action === 'artifact.delete') {
        if (head.tombstone)
          throw new BucketError('artifact_deleted', `${key.name} is already deleted`);
        version = {
          ...head,
          version: head.version + 1,
          sha256: EMPTY_SHA256,
          size: 0,
          meta: {},
          createdAt,
          createdBy: request.principal.id,
          tombstone: true,
          storage: 'none',
        };
      } else {
        const live = await this.restorable(key, head);
        if (live.storage === 'inline') inline = await this.metadata.readInline(key, live.version);
        const classRule = ruleOf(ctx.policy.document.classes, key.class);
        version = {
          ...live,
          version: head.version + 1,
          createdAt,
          createdBy: request.principal.id,
          retention: classRule ? retentionFor(classRule.retention, createdAt) : live.retention,
        };
      }
      const receipt = await this.commit(request, decision, version, head.version, inline);
      return { created: false, version, decision, receipt };
    }
  }

  /** The version a tombstoned head restores to, if the tombstone is within the restore window. */
  private async restorable(key: ArtifactKey, head: ArtifactVersion): Promise<ArtifactVersion> {
    if (!head.tombstone) {
      throw new BucketError('not_restorable', `${key.name} is not deleted`);
    }
    if (Date.now() - Date.parse(head.createdAt) > RESTORE_WINDOW_MS) {
      throw new BucketError('not_restorable', `${key.name} was deleted more than 90 days ago`);
    }
    const versions = await this.metadata.listVersions(key);
    const live = versions.reverse().find((v) => !v.tombstone);
    if (!live) throw new BucketError('not_restorable', `${key.name} has no version to restore`);
    return live;
  }
}

function conflictError(version: ArtifactVersion, current: number): BucketError {
  return new BucketError(
    'version_conflict',
    `a concurrent write moved ${version.name} to version ${current}; retry`,
  );
}

function defaultContentType(content: unknown): string {
  if (content === 'json' || content === 'system') return JSON_MEDIA_TYPE;
  return 'application/octet-stream';
}

/** The entry of an allowed write: its decision and the version it created (SPEC §6). */
function auditDraft(request: RequestInfo, decision: Decision, version: ArtifactVersion) {
  return {
    decision,
    requestId: request.requestId,
    sha256: version.sha256,
    size: version.size,
    version: version.version,
  };
}

/**
 * The limiter (rates, write slots: Redis in a scale-out) not answering: the gate cannot decide
 * the limits stage, so it fails closed with 503, as for any failure inside the gate.
 */
function limiterUnavailable(): never {
  // The backend's own error stays out of the answer: it may name internal hosts.
  throw new BucketError(
    'gate_unavailable',
    'the limiter (rates, write slots) does not answer; nothing was stored, retry later',
  );
}
