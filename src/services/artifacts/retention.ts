/**
 * A version's retention changed by the owner (SPEC §8): lengthened always; governance mode
 * shortened with its reason; compliance never shortened or removed (stage 4, T3). The change is
 * audited with the old and new ends and the reason, in its own transaction.
 */
import type { ArtifactVersion, Retention } from '../../domain/artifact.js';
import { BucketError } from '../../domain/errors.js';
import { shortens } from '../../domain/retention.js';
import type { TargetState } from '../../gate/context.js';
import { chargeRate, keyOf, type ArtifactDeps, type ArtifactRequest } from './deps.js';

export interface RetentionChangeRequest extends ArtifactRequest {
  /** The version to change; the current one when absent. */
  readonly version?: number | undefined;
  /** The new end of retention (normalized ISO-8601), or null for permanent. */
  readonly until: string | null;
  readonly reason: string;
}

export interface RetentionChangeResult {
  readonly version: ArtifactVersion;
  readonly previous: Retention;
}

export async function changeRetention(
  deps: ArtifactDeps,
  request: RetentionChangeRequest,
): Promise<RetentionChangeResult> {
  const key = keyOf(request);
  const rate = await chargeRate(deps, 'write', key.product);
  const ctx = deps.authorizer.context(request, 'artifact.retention', {
    ...key,
    rate,
    retentionChange: { until: request.until },
  });
  const header = await deps.authorizer.authorizeChange(ctx, async (): Promise<TargetState> => {
    const head = await deps.metadata.getHead(key);
    const version =
      request.version === undefined || request.version === head?.version
        ? head
        : await deps.metadata.getVersion(key, request.version);
    return { head, version };
  });
  const { decision } = header;
  return deps.authorizer.settleChange(
    decision,
    request.requestId,
    (async () => {
      const version = header.target?.version ?? null;
      if (!version) {
        throw request.version === undefined
          ? new BucketError('artifact_not_found', `no artifact ${key.class}/${key.name}`)
          : new BucketError('version_not_found', `no version ${request.version} of ${key.name}`);
      }
      if (version.tombstone) {
        throw new BucketError(
          'conflict',
          `version ${version.version} of ${key.name} is a tombstone: it holds no content to retain`,
        );
      }
      if (version.purged) {
        throw new BucketError('content_purged', `version ${version.version} was purged`);
      }
      const previous = version.retention;
      const next: Retention = { mode: previous.mode, until: request.until };
      const entry = {
        draft: {
          decision,
          requestId: request.requestId,
          governance: {
            retention: {
              version: version.version,
              from: previous,
              to: next,
              shortened: shortens(previous, request.until),
              reason: request.reason,
            },
          },
        },
        receipt: null,
      };
      const changed = await deps.metadata.setRetention(
        key,
        version.version,
        { previous, next },
        entry,
      );
      if (!changed) {
        // Decided on a retention another change has replaced since: judged again, it might be
        // refused (a compliance end shortened by two changes at once).
        throw new BucketError(
          'conflict',
          `the retention of version ${version.version} of ${key.name} changed while this ` +
            'change was decided; read it again and retry',
        );
      }
      return { version: changed, previous };
    })(),
  );
}
