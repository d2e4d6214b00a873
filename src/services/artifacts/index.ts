/**
 * Artifact use cases (SPEC §3), one per file: write.ts, read.ts (content, versions), list.ts,
 * batch.ts (SPEC §15 batches of writes and deletes),
 * tombstone.ts (delete, restore), retention.ts (a version's retention changed), subject-export.ts
 * (a data subject's DSAR export). Each is decided by the gate before it touches storage. This
 * facade is what the routes and `createBucket` see.
 */
import type { Readable } from 'node:stream';
import type { Principal } from '../../domain/principal.js';
import type {
  BlobStore,
  Limiter,
  MetadataStore,
  S3PartRecord,
  StoredVersion,
  WriteSlot,
} from '../../storage/ports.js';
import type { Authorizer, RequestInfo } from '../authorize.js';
import type { PolicyService } from '../policies.js';
import type { ArtifactDeps, ArtifactRequest, ArtifactServiceOptions, WriteResult } from './deps.js';
import { listArtifacts, type ListRequest, type ListResult } from './list.js';
import type { IntegrityReporter } from './integrity.js';
import {
  listVersions,
  openContent,
  readArtifact,
  readCopySource,
  type CopySource,
  type ReadRequest,
  type ReadResult,
} from './read.js';
import { changeRetention, type RetentionChangeRequest } from './retention.js';
import { runBatch, type BatchItem, type BatchOutcome } from './batch.js';
import { acquireBatchSlot } from './deps.js';
import {
  authorizeListing,
  authorizeUploadStep,
  storeUploadPart,
  type UploadStepRequest,
} from './s3-decisions.js';
import { subjectExportLines } from './subject-export.js';
import { deleteArtifact, restoreArtifact } from './tombstone.js';
import { putArtifact, type PutArtifactRequest } from './write.js';

export type { ArtifactServiceOptions, WriteResult } from './deps.js';
export type { ListRequest, ListResult } from './list.js';
export type { CopySource, ReadRequest, ReadResult } from './read.js';
export type { PutArtifactRequest, S3Write } from './write.js';
export type { BatchItem, BatchOutcome } from './batch.js';
export type { UploadStepRequest } from './s3-decisions.js';
export type { RetentionChangeRequest, RetentionChangeResult } from './retention.js';

export class ArtifactService {
  private readonly deps: ArtifactDeps;

  constructor(
    metadata: MetadataStore,
    blobs: BlobStore,
    limiter: Limiter,
    policies: PolicyService,
    authorizer: Authorizer,
    options: ArtifactServiceOptions,
  ) {
    this.deps = { metadata, blobs, limiter, policies, authorizer, options };
  }

  put(request: PutArtifactRequest): Promise<WriteResult> {
    return putArtifact(this.deps, request);
  }

  read(request: ReadRequest): Promise<ReadResult> {
    return readArtifact(this.deps, request);
  }

  /** The source of a copy, its read decided as part of the copy's one decision (not recorded alone). */
  copySource(request: ReadRequest): Promise<CopySource> {
    return readCopySource(this.deps, request);
  }

  versions(request: ArtifactRequest) {
    return listVersions(this.deps, request);
  }

  list(request: ListRequest): Promise<ListResult> {
    return listArtifacts(this.deps, request);
  }

  /** The S3 door's listing decision (it pages through the store itself): a read, decided. */
  authorizeListing(request: RequestInfo & { product: string; class?: string }): Promise<void> {
    return authorizeListing(this.deps, request);
  }

  /** The S3 door's multipart steps before completion, decided on their target. */
  authorizeUploadStep(request: UploadStepRequest) {
    return authorizeUploadStep(this.deps, request);
  }

  /** An S3 part's row, its bytes held within the storage limits (507 past them). */
  storeUploadPart(request: RequestInfo, part: S3PartRecord, product: string) {
    return storeUploadPart(this.deps, request, part, product);
  }

  delete(request: ArtifactRequest): Promise<WriteResult> {
    return deleteArtifact(this.deps, request);
  }

  restore(request: ArtifactRequest): Promise<WriteResult> {
    return restoreArtifact(this.deps, request);
  }

  /** SPEC §15: the items of a batch, each decided and committed as its own write or delete. */
  batch(
    request: RequestInfo,
    items: readonly (BatchItem | Error)[],
    atomic: boolean,
  ): Promise<BatchOutcome[]> {
    return runBatch(this.deps, request, items, atomic);
  }

  /** A write slot for a batch of `product`'s key (SPEC §15: one per batch), or null. */
  batchSlot(product: string): Promise<WriteSlot | null> {
    return acquireBatchSlot(this.deps, product);
  }

  /** SPEC §8: the owner's change of a version's retention. */
  retention(request: RetentionChangeRequest) {
    return changeRetention(this.deps, request);
  }

  /** SPEC §8 DSAR: a data subject's export, line by line (the route's action decided it). */
  exportSubject(subject: string, principal: Principal): AsyncIterable<string> {
    return subjectExportLines(this.deps, subject, principal);
  }

  /**
   * A stored version's whole content exactly as a read serves it (re-hashed as it goes), for the
   * scrub (SPEC §9): its failures go to `report` instead of the read path's incident.
   */
  openWhole(stored: StoredVersion, report: IntegrityReporter): Promise<Readable | Buffer> {
    const deps = { ...this.deps, options: { ...this.deps.options, onIntegrityFailure: report } };
    return openContent(deps, stored.version, stored.inline, undefined);
  }
}
