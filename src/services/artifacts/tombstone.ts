/**
 * Deleting (a tombstone) and restoring (undoing one within 90 days), SPEC §3: each a new version,
 * never an erasure, committed with the entry of the decision that allowed it.
 */
import { retentionFor, type ArtifactKey, type ArtifactVersion } from '../../domain/artifact.js';
import { BucketError } from '../../domain/errors.js';
import { ruleOf } from '../../domain/policy.js';
import { RESTORE_WINDOW_MS } from '../../domain/retention.js';
import { EMPTY_SHA256 } from '../../domain/sha256.js';
import type { GateContext } from '../../gate/context.js';
import type { GateOutcome } from '../../gate/decide.js';
import { commitWithinLimits, conflictError, versionCommit } from './commit.js';
import {
  acquireWriteSlot,
  chargeRate,
  keyOf,
  loadTarget,
  nowIso,
  type ArtifactDeps,
  type ArtifactRequest,
  type WriteResult,
} from './deps.js';
import { ActiveHolds, holdTargetOf, type LegalHold } from '../../domain/holds.js';

type TombstoneAction = 'artifact.delete' | 'artifact.restore';

export function deleteArtifact(deps: ArtifactDeps, request: ArtifactRequest) {
  return changeTombstone(deps, request, 'artifact.delete');
}

export function restoreArtifact(deps: ArtifactDeps, request: ArtifactRequest) {
  return changeTombstone(deps, request, 'artifact.restore');
}

async function changeTombstone(
  deps: ArtifactDeps,
  request: ArtifactRequest,
  action: TombstoneAction,
): Promise<WriteResult> {
  const key = keyOf(request);
  const rate = await chargeRate(deps, 'write', key.product, request.batch?.paceUntil);
  const slot = await acquireWriteSlot(deps, rate, key.product, request.batch);
  try {
    const ctx = deps.authorizer.context(request, action, {
      product: key.product,
      class: key.class,
      name: key.name,
      writeSlot: slot !== null,
      rate,
    });
    const header = await deps.authorizer.authorizeChange(ctx, () => loadTarget(deps, key));
    return await deps.authorizer.settleChange(
      header.decision,
      request.requestId,
      commitTombstoneChange(deps, request, action, ctx, header),
    );
  } finally {
    slot?.release();
  }
}

async function commitTombstoneChange(
  deps: ArtifactDeps,
  request: ArtifactRequest,
  action: TombstoneAction,
  ctx: GateContext,
  { decision, target }: GateOutcome,
): Promise<WriteResult> {
  const head = target?.head ?? null;
  if (!head) {
    throw new BucketError('artifact_not_found', `no artifact ${request.class}/${request.name}`);
  }
  const next =
    action === 'artifact.delete'
      ? { version: tombstoneOf(request, head, nowIso(deps)), inline: null }
      : await restoredVersion(deps, request, ctx, head);
  const answered = action === 'artifact.delete' ? 204 : 200;
  const commit = versionCommit(
    request,
    decision,
    next.version,
    answered,
    head.version,
    next.inline,
  );
  // A hold placed on any node since the decision is read again where the tombstone commits.
  const unlessHeld =
    action === 'artifact.delete'
      ? (holds: readonly LegalHold[]) => new ActiveHolds(holds).covering(holdTargetOf(head))
      : undefined;
  const result = await commitWithinLimits(deps, request, { ...commit, unlessHeld });
  if (!result.ok) throw conflictError(next.version, result.current);
  return { created: false, version: next.version, decision, receipt: result.receipt };
}

/** The tombstone after `head`: the empty content, no metadata. */
function tombstoneOf(
  request: ArtifactRequest,
  head: ArtifactVersion,
  createdAt: string,
): ArtifactVersion {
  if (head.tombstone)
    throw new BucketError('artifact_deleted', `${request.name} is already deleted`);
  // A purge record belongs to the version it removed, not to the tombstone after it; a tombstone
  // holds no content of a subject.
  const { purged: _purged, subject: _subject, sealed: _sealed, ...live } = head;
  return {
    ...live,
    version: head.version + 1,
    sha256: EMPTY_SHA256,
    size: 0,
    meta: {},
    createdAt,
    createdBy: request.principal.id,
    tombstone: true,
    storage: 'none',
  };
}

/** The last live version again, after the tombstone `head`, with its retention from now. */
async function restoredVersion(
  deps: ArtifactDeps,
  request: ArtifactRequest,
  ctx: GateContext,
  head: ArtifactVersion,
): Promise<{ version: ArtifactVersion; inline: Buffer | null }> {
  const key = keyOf(request);
  const live = await restorable(deps, key, head);
  const inline =
    live.storage === 'inline' ? await deps.metadata.readInline(key, live.version) : null;
  const classRule = ruleOf(ctx.policy.document.classes, key.class);
  const createdAt = nowIso(deps);
  return {
    version: {
      ...live,
      version: head.version + 1,
      createdAt,
      createdBy: request.principal.id,
      retention: classRule ? retentionFor(classRule.retention, createdAt) : live.retention,
    },
    inline,
  };
}

/** The version a tombstoned head restores to, if the tombstone is within the restore window. */
async function restorable(
  deps: ArtifactDeps,
  key: ArtifactKey,
  head: ArtifactVersion,
): Promise<ArtifactVersion> {
  if (!head.tombstone) {
    throw new BucketError('not_restorable', `${key.name} is not deleted`);
  }
  const now = deps.options.now?.() ?? Date.now();
  if (now - Date.parse(head.createdAt) > RESTORE_WINDOW_MS) {
    throw new BucketError(
      'restore_window_closed',
      `${key.name} was deleted at ${head.createdAt}, more than 90 days ago`,
    );
  }
  const versions = await deps.metadata.listVersions(key);
  const live = versions.reverse().find((v) => !v.tombstone);
  if (!live) throw new BucketError('not_restorable', `${key.name} has no version to restore`);
  if (live.purged) {
    throw new BucketError(
      'content_purged',
      `the content of ${key.name} version ${live.version} was purged at ${live.purged.at}`,
    );
  }
  return live;
}
