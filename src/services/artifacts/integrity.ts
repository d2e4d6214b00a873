/**
 * Integrity on read (SPEC §9): a whole content is re-hashed as it is served. A small (inline)
 * content that no longer hashes to its recorded SHA-256 is refused before any byte (503
 * `integrity_failure`); a streamed one is cut before its last byte (the stream fails, the
 * connection is destroyed, so no client takes it as complete); a missing blob is the same failure,
 * never a 500. Each failure is reported (`onFailure`: an incident, the Bucket read_only).
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ArtifactVersion } from '../../domain/artifact.js';
import { BucketError } from '../../domain/errors.js';

/** `seal_broken`: a sealed content's segments do not open (altered, moved, cut: SPEC §8). */
export type IntegrityProblem = 'digest_mismatch' | 'size_mismatch' | 'missing' | 'seal_broken';

/** What an integrity incident records of a failure: metadata only, never content. */
export interface IntegrityFailure {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
  readonly sha256: string;
  readonly size: number;
  readonly storage: ArtifactVersion['storage'];
  readonly problem: IntegrityProblem;
  /** The digest of what was read instead, when something was. */
  readonly found?: string;
}

export type IntegrityReporter = (failure: IntegrityFailure) => void;

export function integrityFailure(
  version: ArtifactVersion,
  problem: IntegrityProblem,
  found?: string,
): IntegrityFailure {
  return {
    product: version.product,
    class: version.class,
    name: version.name,
    version: version.version,
    sha256: version.sha256,
    size: version.size,
    storage: version.storage,
    problem,
    ...(found === undefined ? {} : { found }),
  };
}

export function integrityError(failure: IntegrityFailure): BucketError {
  return new BucketError(
    'integrity_failure',
    `${failure.product}/${failure.class}/${failure.name} v${failure.version}: ` +
      (failure.problem === 'missing'
        ? 'its content is missing from the blob store'
        : failure.problem === 'seal_broken'
          ? 'its sealed content does not open (altered or cut)'
          : 'its content no longer hashes to its recorded sha256') +
      '; it is not served, and the Bucket is read_only until the owner has checked it',
  );
}

/** The problem of whole inline bytes against their version, or null when they are intact. */
export function inlineProblem(version: ArtifactVersion, bytes: Buffer): IntegrityFailure | null {
  const found = createHash('sha256').update(bytes).digest('hex');
  if (found === version.sha256 && bytes.length === version.size) return null;
  return integrityFailure(version, 'digest_mismatch', found);
}

/**
 * `source` re-hashed as it passes (or, given `digest`, checked against the digest of the bytes the
 * store hashed as it read them), its last chunk held back until the whole has been checked:
 * intact, it ends as the source did; otherwise it fails without that chunk.
 */
export function verifiedStream(
  source: Readable,
  version: ArtifactVersion,
  report: IntegrityReporter,
  digest?: Promise<string>,
): Readable {
  const hash = digest ? null : createHash('sha256');
  let size = 0;
  let held: Buffer | null = null;
  const check = (found: string, done: TransformCallback) => {
    if (found === version.sha256 && size === version.size) return done(null, held ?? undefined);
    const failure = integrityFailure(
      version,
      found === version.sha256 ? 'size_mismatch' : 'digest_mismatch',
      found,
    );
    report(failure);
    done(integrityError(failure));
  };
  const verifier = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      hash?.update(chunk);
      size += chunk.length;
      const previous = held;
      held = chunk;
      done(null, previous ?? undefined);
    },
    flush(done: TransformCallback) {
      if (hash) return check(hash.digest('hex'), done);
      digest?.then(
        (found) => check(found, done),
        (error: Error) => done(error),
      );
    },
  });
  source.on('error', (error) => verifier.destroy(error));
  // An answer cut short (the client went away) stops the read behind it.
  verifier.once('close', () => source.destroy());
  return source.pipe(verifier);
}
