/**
 * A batch of writes (SPEC §15 `POST /v1/batch`): each item is still its own gate decision, version,
 * audit entry, event and receipt — it runs the very write or delete a single request runs — but
 * the items run together, so their commits share the group commit's transactions and durability
 * waits, and the batch takes one write slot for all of them. Items on the same name run in their
 * order; items on different names run at once. Every item is charged to the write rate; an item
 * the rate refuses waits for it, up to PACE_MS after the batch began, before it is refused (so a
 * batch of 500 goes through a rate of 1,000/s, whose windows hold 100 each, in about half a
 * second). Items on different names may commit in any order. An atomic batch (each name at most
 * once) commits all of its items in one transaction, or none (atomic-batch.ts).
 */
import type { ArtifactKey } from '../../domain/artifact.js';
import type { Preconditions } from '../../gate/context.js';
import type { RequestInfo } from '../authorize.js';
import { BucketError } from '../../domain/errors.js';
import { AtomicBatchCommit, aborted } from './atomic-batch.js';
import { type ArtifactDeps, type BatchItemContext, type WriteResult } from './deps.js';
import { deleteArtifact } from './tombstone.js';

/** How long a batch's items may wait for the write rate before they are refused by it. */
const PACE_MS = 5_000;
import { putArtifact } from './write.js';

export interface BatchPut extends ArtifactKey {
  readonly op: 'put';
  readonly content: Buffer;
  readonly contentType: string | null;
  readonly meta: Record<string, string>;
  readonly sha256Claim: string | null;
  readonly preconditions: Preconditions;
}

export interface BatchDelete extends ArtifactKey {
  readonly op: 'delete';
}

export type BatchItem = BatchPut | BatchDelete;

/** An item's outcome: its write, or why it failed (an item that did not parse fails as given). */
export type BatchOutcome =
  | { readonly index: number; readonly ok: true; readonly result: WriteResult }
  | { readonly index: number; readonly ok: false; readonly error: unknown };

/**
 * Runs every item (an `Error` in `items` is an item that could not be read: it fails as it is)
 * under the batch's write slot, which the caller holds: taken before reading the body (a batch
 * without a free slot is refused before its body is read, as a single write would be) and
 * released once this settles.
 */
export async function runBatch(
  deps: ArtifactDeps,
  request: RequestInfo,
  items: readonly (BatchItem | Error)[],
  atomic: boolean,
): Promise<BatchOutcome[]> {
  if (atomic) {
    const unread = items.findIndex((item) => item instanceof Error);
    // An atomic batch with a line that is not an item runs nothing: that line fails, as all do.
    if (unread >= 0) {
      return items.map((item, index) =>
        index === unread
          ? { index, ok: false, error: item }
          : { index, ok: false, error: aborted() },
      );
    }
    const names = new Set(items.map((item) => nameOf(item as BatchItem)));
    if (names.size < items.length) {
      throw new BucketError(
        'invalid_request',
        'an atomic batch names each artifact at most once (send versions of one name in order ' +
          'in a batch without atomic=true)',
      );
    }
  }
  const together = atomic ? new AtomicBatchCommit(deps.metadata, items.length) : null;
  const paceUntil = Date.now() + PACE_MS;
  const own = request.principal.product;
  const chains = new Map<string, Promise<unknown>>();
  const outcomes = items.map((item, index): Promise<BatchOutcome> => {
    if (item instanceof Error) return Promise.resolve({ index, ok: false, error: item });
    const batch: BatchItemContext = {
      slot: true,
      // Only a key's own product's items wait for the rate: waiting on another product's
      // rate, for an item the gate then refuses, would spend that product's rate for nothing.
      paceUntil: own === null || item.product === own ? paceUntil : 0,
      ...(together ? { atomic: (commit) => together.commit(index, commit) } : {}),
    };
    const name = nameOf(item);
    const after = chains.get(name) ?? Promise.resolve();
    const outcome = after.then(() =>
      runItem(deps, request, item, index, batch).then(
        (result): BatchOutcome => ({ index, ok: true, result }),
        (error: unknown): BatchOutcome => {
          together?.itemFailed(index);
          return { index, ok: false, error };
        },
      ),
    );
    chains.set(name, outcome);
    return outcome;
  });
  return Promise.all(outcomes);
}

function nameOf(item: BatchItem): string {
  return JSON.stringify([item.product, item.class, item.name]);
}

function runItem(
  deps: ArtifactDeps,
  request: RequestInfo,
  item: BatchItem,
  index: number,
  batch: BatchItemContext,
): Promise<WriteResult> {
  // Each item's entry names the batch's request and the item's place in it.
  const common = {
    requestId: `${request.requestId}.${index}`,
    principal: request.principal,
    query: request.query,
    headerNames: request.headerNames,
    product: item.product,
    class: item.class,
    name: item.name,
    batch,
  };
  if (item.op === 'delete') return deleteArtifact(deps, common);
  return putArtifact(deps, {
    ...common,
    contentType: item.contentType,
    declaredSize: item.content.length,
    meta: item.meta,
    preconditions: item.preconditions,
    sha256Claim: item.sha256Claim,
    body: item.content,
  });
}
