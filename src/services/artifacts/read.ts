/**
 * Reading an artifact (SPEC §3 GET and HEAD) and listing its versions, each decided first; the
 * source of a copy, decided as part of the copy's write.
 */
import { Readable } from 'node:stream';
import { isVersionNumber, type ArtifactVersion, type SealedRef } from '../../domain/artifact.js';
import { SegmentError } from '../../domain/sealed-segments.js';
import { ContentDamagedError } from '../../storage/errors.js';
import { openBytes, readSealedBlob } from '../../storage/sealed.js';
import { BucketError } from '../../domain/errors.js';
import type { RateVerdict } from '../../domain/rates.js';
import type { ByteRange, HashedRead } from '../../storage/ports.js';
import { chargeRate, heldBy, keyOf, type ArtifactDeps, type ArtifactRequest } from './deps.js';
import {
  inlineProblem,
  integrityError,
  integrityFailure,
  verifiedStream,
  type IntegrityProblem,
} from './integrity.js';

export interface ReadRequest extends ArtifactRequest {
  readonly version?: number | undefined;
  /** GET (the content) rather than HEAD: auditors and executors may not read content (SPEC §1). */
  readonly content: boolean;
}

export interface ReadResult {
  readonly version: ArtifactVersion;
  /** Whether a legal hold covers the version (SPEC §8: `x-bucket-legal-hold: on`). */
  readonly legalHold: boolean;
  /** Opens the content, or the inclusive byte range of it. */
  open(range?: ByteRange): Promise<Readable | Buffer>;
}

export async function readArtifact(deps: ArtifactDeps, request: ReadRequest): Promise<ReadResult> {
  const key = keyOf(request);
  const rate = await chargeRate(deps, 'read', key.product);
  await deps.authorizer.authorize(readContext(deps, request, rate));
  return readable(deps, request);
}

/** What a copy read, opened whole: its source version and content. */
export interface CopySource {
  readonly version: ArtifactVersion;
  readonly content: Readable | Buffer;
}

/**
 * The source of a copy (S3 CopyObject, decision record 0053): its read is decided by the gate and
 * charged to the read rate, but not recorded on its own — a denial is recorded (it is the request's
 * decision), an allow becomes part of the copy's write decision, whose entry names the source
 * (`copiedFrom`). A source that cannot be read after the allow (missing, deleted, purged, failing
 * its check) is recorded as the failure of that read, the request's one entry.
 */
export async function readCopySource(
  deps: ArtifactDeps,
  request: ReadRequest,
): Promise<CopySource> {
  const rate = await chargeRate(deps, 'read', request.product);
  const allowed = await deps.authorizer.authorizeChange(readContext(deps, request, rate));
  return deps.authorizer.settleChange(allowed.decision, request.requestId, openSource());
  async function openSource(): Promise<CopySource> {
    const found = await readable(deps, request);
    return { version: found.version, content: await found.open() };
  }
}

function readContext(deps: ArtifactDeps, request: ReadRequest, rate: RateVerdict) {
  return deps.authorizer.context(request, request.content ? 'artifact.read' : 'artifact.head', {
    product: request.product,
    class: request.class,
    name: request.name,
    rate,
  });
}

/** The version a read asks for, once decided: 404 when missing or deleted, 410 when purged. */
async function readable(deps: ArtifactDeps, request: ReadRequest): Promise<ReadResult> {
  // A number past the stores' integers names no version (and would fail PostgreSQL's query).
  const found =
    request.version === undefined || isVersionNumber(request.version)
      ? await deps.metadata.getForRead(keyOf(request), request.version)
      : null;
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
  if (version.purged) {
    throw new BucketError(
      'content_purged',
      `the content of ${request.name} version ${version.version} was purged at ` +
        `${version.purged.at} (${version.purged.reason}; audit entry ${version.purged.auditIndex})`,
    );
  }
  return {
    version,
    legalHold: heldBy(deps, version).length > 0,
    open: (range) => openContent(deps, version, inline, range),
  };
}

/**
 * The content, or the inclusive byte range of it. A whole content is checked against its recorded
 * SHA-256 as it is served (SPEC §9 integrity on read; Range reads are the scrub's); a missing blob,
 * or one the store finds damaged before a byte, is an integrity failure, whatever the range.
 */
export async function openContent(
  deps: ArtifactDeps,
  version: ArtifactVersion,
  inline: Buffer | null,
  range: ByteRange | undefined,
): Promise<Readable | Buffer> {
  const report = deps.options.onIntegrityFailure ?? (() => undefined);
  if (version.sealed)
    return openSealed(deps, { ...version, sealed: version.sealed }, inline, range);
  if (version.storage === 'inline') {
    const bytes = inline ?? Buffer.alloc(0);
    if (range) return bytes.subarray(range.start, range.end + 1);
    const failure = inlineProblem(version, bytes);
    if (!failure) return bytes;
    report(failure);
    throw integrityError(failure);
  }
  let read: HashedRead | Readable;
  try {
    // A whole content hashed as it is read, off the event loop where the store can.
    read =
      !range && deps.blobs.readHashed
        ? await deps.blobs.readHashed(version.sha256)
        : await deps.blobs.read(version.sha256, range);
  } catch (error) {
    // A store that does not answer is not a missing content: only a content it lacks, or holds
    // with some of its bytes missing (a composite short of a link), is.
    const damaged = error instanceof ContentDamagedError;
    if (!damaged && (await deps.blobs.exists(version.sha256).catch(() => true))) throw error;
    const failure = integrityFailure(version, 'missing');
    report(failure);
    throw integrityError(failure);
  }
  if (read instanceof Readable) return range ? read : verifiedStream(read, version, report);
  return verifiedStream(read.stream, version, report, read.digest);
}

/**
 * A subject-bound content (SPEC §8), opened with its subject's key: inline bytes whole, a blob as
 * it streams, a range by the segments it touches. Segments that do not open are an integrity
 * failure like a digest that does not match; no byte of such a segment is served.
 */
async function openSealed(
  deps: ArtifactDeps,
  version: ArtifactVersion & { sealed: SealedRef },
  inline: Buffer | null,
  range: ByteRange | undefined,
): Promise<Readable | Buffer> {
  const report = deps.options.onIntegrityFailure ?? (() => undefined);
  const fail = (problem: IntegrityProblem) => {
    const failure = integrityFailure(version, problem);
    report(failure);
    return integrityError(failure);
  };
  const seal = await deps.options.subjectKeys.forRead(version);
  if (version.storage === 'inline') {
    let plain: Buffer;
    try {
      plain = openBytes(seal, version.size, inline ?? Buffer.alloc(0));
    } catch (error) {
      if (error instanceof SegmentError) throw fail('seal_broken');
      throw error;
    }
    if (range) return plain.subarray(range.start, range.end + 1);
    const failure = inlineProblem(version, plain);
    if (!failure) return plain;
    report(failure);
    throw integrityError(failure);
  }
  let stream: Readable;
  try {
    stream = await readSealedBlob(deps.blobs, seal, version.size, range);
  } catch (error) {
    if (await deps.blobs.exists(version.sealed.contentId).catch(() => true)) throw error;
    throw fail('missing');
  }
  try {
    // The first segment opened before any header: a refusal then is an answer, not a cut.
    await firstBytes(stream);
  } catch (error) {
    if (error instanceof SegmentError) throw fail('seal_broken');
    throw error;
  }
  stream.once('error', (error) => {
    if (error instanceof SegmentError) fail('seal_broken');
  });
  return range ? stream : verifiedStream(stream, version, report);
}

/** Resolves once `stream` has bytes to give (or has ended); rejects if it fails first. */
function firstBytes(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('readable', onReadable);
      stream.off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onReadable = () => settle();
    stream.once('readable', onReadable);
    stream.once('error', settle);
  });
}

/** Every version of an artifact, tombstones included, oldest first. */
export async function listVersions(
  deps: ArtifactDeps,
  request: ArtifactRequest,
): Promise<ArtifactVersion[]> {
  const key = keyOf(request);
  const rate = await chargeRate(deps, 'read', key.product);
  await deps.authorizer.authorize(
    deps.authorizer.context(request, 'artifact.versions', { ...key, rate }),
  );
  const versions = await deps.metadata.listVersions(key);
  if (versions.length === 0) {
    throw new BucketError('artifact_not_found', `no artifact ${request.class}/${request.name}`);
  }
  return versions;
}
