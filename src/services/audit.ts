/**
 * The audit log as a use case (SPEC §6): issuing signed checkpoints, and answering entries, proofs
 * and exports to the principals allowed to see them. Decisions are recorded by the ledger
 * (ledger.ts).
 */
import { decompose } from '../audit/compact.js';
import { parseEntry } from '../audit/entry.js';
import { checkpointBody, encodeVerifierKey, signNote, type NoteSigner } from '../audit/note.js';
import { consistencyPlan, inclusionPlan, rootPlan } from '../audit/proof.js';
import { BucketError } from '../domain/errors.js';
import { auditScope } from '../gate/access.js';
import type { Principal } from '../domain/principal.js';
import type {
  AuditQuery,
  MetadataStore,
  StoredAuditEntry,
  StoredCheckpoint,
} from '../storage/ports.js';

/** How often a checkpoint is issued while entries arrive (SPEC §6: at least every second). */
const CHECKPOINT_INTERVAL_MS = 1_000;

/**
 * The most entries one `GET /v1/audit/entries` reads when no index answers its filters: a few
 * milliseconds of the store's time, where a scan of a million-entry log for a principal with no
 * entries held the server for a third of a second.
 */
export const AUDIT_SCAN_WINDOW = 20_000;

export interface AuditServiceOptions {
  readonly origin: string;
  readonly signer: NoteSigner;
  /** Entries a query without an indexed filter reads at most (default AUDIT_SCAN_WINDOW). */
  readonly scanWindow?: number;
}

export interface EntryView {
  readonly index: number;
  readonly entry: unknown;
  readonly canonical: string;
  readonly leafHash: string;
}

export interface CheckpointView {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: string;
  readonly note: string;
}

function visible(entry: StoredAuditEntry, scope: string | undefined): boolean {
  if (scope === undefined) return true;
  const parsed = parseEntry(entry.canonical);
  return parsed.principal.product === scope || parsed.target.product === scope;
}

export class AuditService {
  private checkpointTimer: NodeJS.Timeout | null = null;
  private issuing: Promise<StoredCheckpoint> | null = null;
  private lastCheckpointSize = -1;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly options: AuditServiceOptions,
  ) {}

  get origin(): string {
    return this.options.origin;
  }

  async init(): Promise<void> {
    this.lastCheckpointSize = (await this.metadata.latestCheckpoint())?.size ?? -1;
    this.checkpointTimer = setInterval(() => {
      this.checkpointIfGrown().catch(() => {
        // A failing store is reported by /health; the next tick tries again.
      });
    }, CHECKPOINT_INTERVAL_MS);
    this.checkpointTimer.unref();
  }

  /** Issues a last checkpoint; the store must still be open (and the ledger flushed first). */
  async close(): Promise<void> {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.checkpointTimer = null;
    await this.checkpointIfGrown();
  }

  async size(): Promise<number> {
    return this.metadata.auditSize();
  }

  private async checkpointIfGrown(): Promise<void> {
    const size = await this.metadata.auditSize();
    if (size > this.lastCheckpointSize) await this.issueCheckpoint();
  }

  /** The checkpoint of the current tree, issued now unless one for this size is stored. */
  async checkpoint(): Promise<CheckpointView> {
    const size = await this.metadata.auditSize();
    const latest = await this.metadata.latestCheckpoint();
    const stored = latest && latest.size === size ? latest : await this.issueCheckpoint();
    return this.view(stored);
  }

  lastCheckpoint(): Promise<StoredCheckpoint | null> {
    return this.metadata.latestCheckpoint();
  }

  /** One issuance at a time: concurrent callers share it. */
  private issueCheckpoint(): Promise<StoredCheckpoint> {
    if (!this.issuing) {
      this.issuing = this.signCurrent().finally(() => {
        this.issuing = null;
      });
    }
    return this.issuing;
  }

  private async signCurrent(): Promise<StoredCheckpoint> {
    const checkpoint = await this.sign(await this.metadata.auditSize());
    this.lastCheckpointSize = Math.max(this.lastCheckpointSize, checkpoint.size);
    return checkpoint;
  }

  /** Signs and stores the checkpoint of the first `size` entries. */
  private async sign(size: number): Promise<StoredCheckpoint> {
    const rootHash = await this.root(size);
    const checkpoint: StoredCheckpoint = {
      size,
      rootHash,
      note: signNote(
        checkpointBody({ origin: this.options.origin, size, rootHash }),
        this.options.signer,
      ),
      createdAt: new Date().toISOString(),
    };
    await this.metadata.insertCheckpoint(checkpoint);
    return checkpoint;
  }

  private view(checkpoint: StoredCheckpoint): CheckpointView {
    return {
      origin: this.options.origin,
      size: checkpoint.size,
      rootHash: checkpoint.rootHash.toString('hex'),
      note: checkpoint.note,
    };
  }

  /** The RFC 6962 root of the first `size` entries, from O(log n) stored subtrees. */
  async root(size: number): Promise<Buffer> {
    const plan = rootPlan(size);
    const [root] = plan.assemble(await this.metadata.auditSubtrees(plan.nodes));
    if (!root) throw new Error('no root assembled');
    return root;
  }

  publicKey() {
    const { signer } = this.options;
    return {
      name: signer.name,
      publicKey: signer.publicKey.toString('base64'),
      keyId: signer.keyId.toString('hex'),
      vkey: encodeVerifierKey(signer.name, signer.publicKey),
    };
  }

  /**
   * A page of the entries matching `query`, in index order. An `artifact` filter is answered
   * from its index. Any other query reads at most `scanWindow` consecutive entries, so that no
   * query holds the store for a scan of the whole log: its page may then be short, even empty,
   * with a `nextCursor` at the last entry read (a caller follows it until it is null). `since`
   * starts at the first entry appended at or after that time, found by bisection: entries are
   * timestamped as they are appended, in index order.
   */
  async entries(
    principal: Principal,
    query: Omit<AuditQuery, 'visibleTo' | 'throughIndex'>,
  ): Promise<{ entries: EntryView[]; nextCursor: string | null }> {
    const scope = auditScope(principal);
    const size = await this.metadata.auditSize();
    let after = query.afterIndex ?? -1;
    if (query.since !== undefined && query.afterIndex === undefined) {
      after = (await this.firstIndexAt(query.since, size)) - 1;
    }
    const window = this.options.scanWindow ?? AUDIT_SCAN_WINDOW;
    const through = query.artifact === undefined ? Math.min(after + window, size - 1) : undefined;
    const rows = await this.metadata.auditEntries({
      ...query,
      afterIndex: after,
      throughIndex: through,
      ...(scope !== undefined ? { visibleTo: scope } : {}),
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    let nextCursor: string | null = null;
    if (rows.length > query.limit && last) nextCursor = String(last.index);
    else if (through !== undefined && through < size - 1) nextCursor = String(through);
    return { entries: page.map(entryView), nextCursor };
  }

  /** The index of the first entry timestamped at or after `time` (`size` when there is none). */
  async firstIndexAt(time: string, size: number): Promise<number> {
    let low = 0;
    let high = size;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const stored = await this.metadata.auditEntry(middle);
      if (!stored) throw new Error(`audit entry ${middle} of ${size} is missing`);
      if (parseEntry(stored.canonical).time < time) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** One entry, if the principal may see it (404 otherwise: it may not know it exists). */
  async entry(principal: Principal, index: number): Promise<EntryView> {
    const stored = await this.metadata.auditEntry(index);
    if (!stored || !visible(stored, auditScope(principal))) {
      throw new BucketError('not_found', `no audit entry ${index} visible to this key`);
    }
    return entryView(stored);
  }

  async inclusionProof(index: number, size?: number) {
    const treeSize = await this.checkedSize(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
      throw new BucketError(
        'invalid_request',
        `index must be below the tree size ${treeSize}, not ${index}`,
      );
    }
    const plan = inclusionPlan(index, treeSize);
    const [leaf] = await this.metadata.auditSubtrees([{ level: 0, index }]);
    return {
      index,
      size: treeSize,
      leafHash: (leaf ?? Buffer.alloc(0)).toString('hex'),
      rootHash: (await this.root(treeSize)).toString('hex'),
      proof: plan.assemble(await this.metadata.auditSubtrees(plan.nodes)).map(hex),
    };
  }

  async consistencyProof(from: number, to?: number) {
    const treeSize = await this.checkedSize(to);
    if (!Number.isSafeInteger(from) || from < 0 || from > treeSize) {
      throw new BucketError(
        'invalid_request',
        `from must be between 0 and the tree size ${treeSize}, not ${from}`,
      );
    }
    const plan = consistencyPlan(from, treeSize);
    return {
      from,
      to: treeSize,
      fromRoot: (await this.root(from)).toString('hex'),
      toRoot: (await this.root(treeSize)).toString('hex'),
      proof: plan.assemble(await this.metadata.auditSubtrees(plan.nodes)).map(hex),
    };
  }

  /** A size asked for (default: the current one), refused when the tree is not that large yet. */
  private async checkedSize(size: number | undefined): Promise<number> {
    const current = await this.metadata.auditSize();
    if (size === undefined) return current;
    if (!Number.isSafeInteger(size) || size < 0 || size > current) {
      throw new BucketError(
        'invalid_request',
        `size must be between 0 and the tree size ${current}, not ${size}`,
      );
    }
    return size;
  }

  /**
   * JSON lines for offline verification: a header, the entries [from, to) `principal` may see,
   * and a checkpoint signed for exactly `to`. The whole log's export carries the frontier before
   * `from` (so the root can be recomputed from a partial export); a namespace key's carries only
   * its product's entries (SPEC §6), each with its inclusion proof against the checkpoint, and
   * names that product in the header's `filter`.
   */
  async *exportLines(principal: Principal, from: number, to?: number): AsyncIterable<string> {
    const size = await this.checkedSize(to);
    if (!Number.isSafeInteger(from) || from < 0 || from > size) {
      throw new BucketError('invalid_request', `from must be between 0 and ${size}, not ${from}`);
    }
    const scope = auditScope(principal);
    const checkpoint = await this.checkpointFor(size);
    const frontier =
      scope === undefined ? await this.metadata.auditSubtrees(decompose(0, from)) : [];
    yield (
      JSON.stringify({
        type: 'header',
        format: 'bhiv-bucket-audit-export/1',
        origin: this.options.origin,
        from,
        to: size,
        frontier: frontier.map(hex),
        ...(scope === undefined ? {} : { filter: { product: scope } }),
      }) + '\n'
    );
    for await (const entry of this.metadata.auditRange(from, size)) {
      if (!visible(entry, scope)) continue;
      const line = {
        type: 'entry',
        index: entry.index,
        canonical: entry.canonical.toString('utf8'),
        leafHash: hex(entry.leafHash),
      };
      if (scope === undefined) {
        yield JSON.stringify(line) + '\n';
        continue;
      }
      const plan = inclusionPlan(entry.index, size);
      const proof = plan.assemble(await this.metadata.auditSubtrees(plan.nodes)).map(hex);
      yield JSON.stringify({ ...line, proof }) + '\n';
    }
    yield JSON.stringify({ type: 'checkpoint', ...this.view(checkpoint) }) + '\n';
  }

  /** A stored checkpoint of exactly `size`, signed now when none is stored. */
  private async checkpointFor(size: number): Promise<StoredCheckpoint> {
    const latest = await this.metadata.latestCheckpoint();
    if (latest && latest.size === size) return latest;
    return this.sign(size);
  }
}

function hex(hash: Buffer): string {
  return hash.toString('hex');
}

function entryView(stored: StoredAuditEntry): EntryView {
  const canonical = stored.canonical.toString('utf8');
  return {
    index: stored.index,
    entry: JSON.parse(canonical) as unknown,
    canonical,
    leafHash: stored.leafHash.toString('hex'),
  };
}
