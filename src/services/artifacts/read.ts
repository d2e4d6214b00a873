/** Reading an artifact (SPEC §3 GET and HEAD) and listing its versions, each decided first. */
import type { Readable } from 'node:stream';
import type { ArtifactVersion } from '../../domain/artifact.js';
import { BucketError } from '../../domain/errors.js';
import type { ByteRange } from '../../storage/ports.js';
import { chargeRate, heldBy, keyOf, type ArtifactDeps, type ArtifactRequest } from './deps.js';

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
  await deps.authorizer.authorize(
    deps.authorizer.context(request, request.content ? 'artifact.read' : 'artifact.head', {
      product: key.product,
      class: key.class,
      name: key.name,
      rate,
    }),
  );
  const found = await deps.metadata.getForRead(key, request.version);
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
    open: async (range) => {
      if (version.storage === 'inline') {
        const bytes = inline ?? Buffer.alloc(0);
        return range ? bytes.subarray(range.start, range.end + 1) : bytes;
      }
      return deps.blobs.read(version.sha256, range);
    },
  };
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
