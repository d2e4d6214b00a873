/**
 * The version commits of one group-commit batch, in a few round trips instead of five per write:
 * the heads of every name the batch writes and the usage rows are read once (under the audit tree
 * head's lock, which every writer of every node holds first), each commit is checked against them
 * in memory in submission order, and all rows — with the audit tree's appends — are written by one
 * statement before COMMIT. A batch
 * whose statement fails is run again write by write, each in its own savepoint and checked and
 * written by these same means, one commit at a time (metadata.ts).
 */
import type pg from 'pg';
import type { ArtifactVersion } from '../../domain/artifact.js';
import { checkCommit, isRefusal } from '../../domain/commit.js';
import { UsageCounters } from '../../domain/usage.js';
import { heldBytesOf } from './usage-rows.js';
import type { NewSubjectKey } from '../../domain/erasure.js';
import type { LegalHold } from '../../domain/holds.js';
import { toHold, type HoldRow } from '../rows.js';
import type { CommitResult, ProductUsage, VersionCommit } from '../ports.js';
import { treeWriteCtes, treeWriteTail, type TreeAppend } from './audit.js';
import { artifactEvent, limitWarnings } from '../../domain/events.js';

/**
 * Common table expressions writing the versions, the moved heads and the usage deltas ($1–$28;
 * the sealed columns, added last, are $27 and $28), deleting the S3 uploads the versions
 * complete ($29) and writing the S3 ETags of versions written through the S3 door ($30–$34).
 */
const VERSION_CTES =
  'versions_in AS (INSERT INTO versions (product, class, name, version, sha256, size, ' +
  'content_type, meta, created_at, created_by, retention_mode, retention_until, tombstone, ' +
  'storage, subject, inline_content, facts_salt, audit_index, sealed_key, content_id) ' +
  'SELECT * FROM unnest($1::text[], ' +
  '$2::text[], $3::text[], $4::int[], $5::text[], $6::bigint[], $7::text[], $8::text[], ' +
  '$9::text[], $10::text[], $11::text[], $12::text[], $13::boolean[], $14::text[], ' +
  '$15::text[], $16::bytea[], $17::bytea[], $18::bigint[], $27::text[], $28::text[])), ' +
  'heads_in AS (INSERT INTO artifacts (product, class, name, head_version, tombstone) ' +
  'SELECT * FROM unnest($19::text[], $20::text[], $21::text[], $22::int[], $23::boolean[]) ' +
  'ON CONFLICT (product, class, name) DO UPDATE SET head_version = excluded.head_version, ' +
  'tombstone = excluded.tombstone), ' +
  'usage_in AS (INSERT INTO product_usage (product, bytes, artifacts) ' +
  'SELECT * FROM unnest($24::text[], $25::bigint[], $26::bigint[]) ' +
  'ON CONFLICT (product) DO UPDATE SET bytes = product_usage.bytes + excluded.bytes, ' +
  'artifacts = product_usage.artifacts + excluded.artifacts), ' +
  'uploads_out AS (DELETE FROM s3_uploads WHERE upload_id = ANY($29::text[])), ' +
  'parts_out AS (DELETE FROM s3_parts WHERE upload_id = ANY($29::text[])), ' +
  'etags_in AS (INSERT INTO s3_etags (product, class, name, version, etag) ' +
  'SELECT * FROM unnest($30::text[], $31::text[], $32::text[], $33::int[], $34::text[]) ' +
  'ON CONFLICT (product, class, name, version) DO UPDATE SET etag = excluded.etag)';
const VERSION_PARAMS = 34;

/** A whole batch: its versions, moved heads and usage deltas, with the tree's appends. */
const WRITE_SQL =
  `WITH ${VERSION_CTES}, ${treeWriteCtes(VERSION_PARAMS)} ` + treeWriteTail(VERSION_PARAMS);
/** One write of an isolated batch, in its savepoint: the tree's appends are written at its end. */
const WRITE_VERSIONS_SQL = `WITH ${VERSION_CTES} SELECT 1`;

/** The new rows of `versions`, one array per column (VERSION_INSERT_COLUMNS order). */
class VersionColumns {
  readonly product: string[] = [];
  readonly class: string[] = [];
  readonly name: string[] = [];
  readonly version: number[] = [];
  readonly sha256: string[] = [];
  readonly size: number[] = [];
  readonly contentType: string[] = [];
  readonly meta: string[] = [];
  readonly createdAt: string[] = [];
  readonly createdBy: string[] = [];
  readonly retentionMode: string[] = [];
  readonly retentionUntil: (string | null)[] = [];
  readonly tombstone: boolean[] = [];
  readonly storage: string[] = [];
  readonly subject: (string | null)[] = [];
  readonly inline: (Buffer | null)[] = [];
  readonly factsSalt: Buffer[] = [];
  readonly auditIndex: number[] = [];
  readonly sealedKey: (string | null)[] = [];
  readonly contentId: (string | null)[] = [];

  push(v: ArtifactVersion, inline: Buffer | null, factsSalt: Buffer, auditIndex: number): void {
    this.product.push(v.product);
    this.class.push(v.class);
    this.name.push(v.name);
    this.version.push(v.version);
    this.sha256.push(v.sha256);
    this.size.push(v.size);
    this.contentType.push(v.contentType);
    this.meta.push(JSON.stringify(v.meta));
    this.createdAt.push(v.createdAt);
    this.createdBy.push(v.createdBy);
    this.retentionMode.push(v.retention.mode);
    this.retentionUntil.push(v.retention.until);
    this.tombstone.push(v.tombstone);
    this.storage.push(v.storage);
    this.subject.push(v.subject ?? null);
    this.inline.push(inline);
    this.factsSalt.push(factsSalt);
    this.auditIndex.push(auditIndex);
    this.sealedKey.push(v.sealed?.keyId ?? null);
    this.contentId.push(v.sealed?.contentId ?? null);
  }

  params(): unknown[] {
    return [
      this.product,
      this.class,
      this.name,
      this.version,
      this.sha256,
      this.size,
      this.contentType,
      this.meta,
      this.createdAt,
      this.createdBy,
      this.retentionMode,
      this.retentionUntil,
      this.tombstone,
      this.storage,
      this.subject,
      this.inline,
      this.factsSalt,
      this.auditIndex,
    ];
  }

  /** $27 and $28, after the heads' and usage's parameters. */
  sealedParams(): unknown[] {
    return [this.sealedKey, this.contentId];
  }
}

interface Head {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  version: number;
  tombstone: boolean;
  /** Whether a commit of this batch moved it (only those heads are written). */
  moved: boolean;
}

/** A name's key in the heads map: its three parts, NUL-separated (names never contain NUL). */
function headKey(product: string, cls: string, name: string): string {
  return `${product}\u0000${cls}\u0000${name}`;
}

export class VersionRows {
  private readonly rows = new VersionColumns();
  /** What each product's usage row gains in this batch. */
  private readonly added = new Map<string, ProductUsage>();
  /** The subject keys first used by this batch's versions (SPEC §8), stored with them. */
  private readonly newKeys: NewSubjectKey[] = [];
  /** The S3 uploads this batch's versions complete: deleted with them. */
  private readonly completed: string[] = [];
  /** The S3 ETags of this batch's versions written through the S3 door. */
  private readonly etags: { readonly version: ArtifactVersion; readonly etag: string }[] = [];

  private constructor(
    private readonly heads: Map<string, Head>,
    /** Every product's usage as read under the lock; null for a batch without versions. */
    private readonly usage: UsageCounters | null,
    /** The live ones of the existing subject keys the batch's sealed versions use. */
    private readonly liveKeys: ReadonlySet<string> = new Set(),
    /** What the parts of the S3 uploads the versions complete hold, by upload. */
    private readonly held: ReadonlyMap<string, number> = new Map(),
    /** The legal holds in force, read under the lock when a commit of the batch asks for them. */
    private readonly holds: readonly LegalHold[] = [],
  ) {}

  /** A batch of audit appends only: nothing to read, only the tree's appends to write. */
  static none(): VersionRows {
    return new VersionRows(new Map(), null);
  }

  /**
   * Which of the subject keys the commits' sealed contents use are live, read under the tree
   * head's lock: an erasure, which destroys keys under the same lock, is before or after the batch.
   */
  private static async liveKeysOf(
    client: pg.PoolClient,
    commits: readonly VersionCommit[],
  ): Promise<Set<string>> {
    const ids = commits.flatMap((c) =>
      c.version.sealed && !c.newSubjectKey ? [c.version.sealed.keyId] : [],
    );
    if (ids.length === 0) return new Set();
    const { rows } = await client.query<{ id: string }>(
      'SELECT id FROM subject_keys WHERE id = ANY($1::text[]) AND destroyed_at IS NULL',
      [ids],
    );
    return new Set(rows.map((row) => row.id));
  }

  /**
   * The legal holds in force, when a commit of the batch is refused under them (tombstones), read
   * under the tree head's lock: hold changes take the same lock, so a hold is before or after.
   */
  private static async holdsFor(
    client: pg.PoolClient,
    commits: readonly VersionCommit[],
  ): Promise<LegalHold[]> {
    if (!commits.some((c) => c.unlessHeld)) return [];
    const { rows } = await client.query<HoldRow>(
      'SELECT * FROM legal_holds WHERE lifted_at IS NULL',
    );
    return rows.map(toHold);
  }

  /**
   * Reads (and locks) the heads of the names `commits` write, and every product's usage, in one
   * round trip: both are read under the tree head's lock, which the batch holds until COMMIT.
   */
  static async read(
    client: pg.PoolClient,
    commits: readonly VersionCommit[],
  ): Promise<VersionRows> {
    const { rows } = await client.query<{
      kind: 'head' | 'usage';
      product: string;
      class: string | null;
      name: string | null;
      version: number | null;
      tombstone: boolean | null;
      bytes: number | null;
      artifacts: number | null;
    }>({
      name: 'lock-batch-heads-read-usage',
      text:
        'WITH locked AS (SELECT a.product, a.class, a.name, a.head_version, a.tombstone ' +
        'FROM artifacts a JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(product, class, ' +
        'name) ON a.product = k.product AND a.class = k.class AND a.name = k.name ' +
        'FOR UPDATE OF a) ' +
        "SELECT 'head' AS kind, product, class, name, head_version AS version, tombstone, " +
        'NULL::bigint AS bytes, NULL::bigint AS artifacts FROM locked UNION ALL ' +
        "SELECT 'usage', product, NULL::text, NULL::text, NULL::int, NULL::boolean, bytes, " +
        'artifacts FROM product_usage',
      values: [
        commits.map((c) => c.version.product),
        commits.map((c) => c.version.class),
        commits.map((c) => c.version.name),
      ],
    });
    const heads = new Map<string, Head>();
    const usage: (ProductUsage & { product: string })[] = [];
    for (const row of rows) {
      if (row.kind === 'usage') {
        usage.push({ product: row.product, bytes: row.bytes ?? 0, artifacts: row.artifacts ?? 0 });
      } else if (row.class !== null && row.name !== null) {
        heads.set(headKey(row.product, row.class, row.name), {
          product: row.product,
          class: row.class,
          name: row.name,
          version: row.version ?? 0,
          tombstone: row.tombstone === true,
          moved: false,
        });
      }
    }
    return new VersionRows(
      heads,
      new UsageCounters(usage),
      await this.liveKeysOf(client, commits),
      await heldBytesOf(client, commits),
      await this.holdsFor(client, commits),
    );
  }

  /**
   * Checks one commit against the heads and usage as this batch has left them, and if it may
   * commit, appends its entry and adds its rows, in memory: `write` writes both in one statement,
   * so an entry is stored only with its version. Changes nothing when it may not.
   */
  commit(tree: TreeAppend, commit: VersionCommit): CommitResult {
    if (!this.usage) throw new Error('a version commit in a batch read without versions');
    const v = commit.version;
    const key = headKey(v.product, v.class, v.name);
    const head = this.heads.get(key);
    const before = this.usage.facts(v.product);
    // An S3 completion: the bytes its upload's parts held become the version's.
    const completes = commit.s3?.completesUpload;
    const released = completes ? (this.held.get(completes) ?? 0) : 0;
    const after = checkCommit(commit, head?.version ?? 0, before, released);
    if (isRefusal(after)) return after;
    if (v.sealed && !commit.newSubjectKey && !this.liveKeys.has(v.sealed.keyId)) {
      return { ok: false, reason: 'subject_erased', keyId: v.sealed.keyId };
    }
    if (commit.unlessHeld) {
      const holds = commit.unlessHeld(this.holds);
      if (holds.length > 0) return { ok: false, reason: 'legal_hold', holds };
    }
    if (commit.newSubjectKey) this.newKeys.push(commit.newSubjectKey);
    // Its events first, pointing at the entry appended next.
    const time = new Date().toISOString();
    const auditIndex = tree.nextIndex;
    tree.appendEvents([artifactEvent(v, commit.audit.decision.operation)], time, auditIndex);
    tree.appendEvents(limitWarnings(v.product, before, after, commit.limits), time, auditIndex);
    const receipt = tree.append(commit.audit, time);
    this.rows.push(v, commit.inline, commit.factsSalt, auditIndex);
    if (head) {
      head.version = v.version;
      head.tombstone = v.tombstone;
      head.moved = true;
    } else {
      this.heads.set(key, {
        product: v.product,
        class: v.class,
        name: v.name,
        version: v.version,
        tombstone: v.tombstone,
        moved: true,
      });
    }
    this.usage.commit(v.product, after);
    const added = this.added.get(v.product);
    if (completes) this.completed.push(completes);
    if (commit.s3?.etag) this.etags.push({ version: v, etag: commit.s3.etag });
    this.added.set(v.product, {
      bytes: (added?.bytes ?? 0) + v.size - released,
      artifacts: (added?.artifacts ?? 0) + after.product.artifacts - before.product.artifacts,
    });
    return { ok: true, usage: after, receipt };
  }

  /** Writes the batch's versions, moved heads and usage, and the tree's appends, in one statement. */
  async write(client: pg.PoolClient, tree: TreeAppend): Promise<void> {
    await this.writeKeys(client);
    await client.query({
      name: 'write-batch',
      text: WRITE_SQL,
      values: [...this.versionParams(), ...tree.writeParams()],
    });
  }

  /** Writes the versions, moved heads and usage alone (the tree's appends are written later). */
  async writeVersions(client: pg.PoolClient): Promise<void> {
    await this.writeKeys(client);
    await client.query({
      name: 'write-versions',
      text: WRITE_VERSIONS_SQL,
      values: this.versionParams(),
    });
  }

  /** The subject keys first used by the batch (rarely any: a subject's first sealed write). */
  private async writeKeys(client: pg.PoolClient): Promise<void> {
    if (this.newKeys.length === 0) return;
    await client.query(
      'INSERT INTO subject_keys (id, subject, wrapped, created_at) ' +
        'SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])',
      [
        this.newKeys.map((k) => k.id),
        this.newKeys.map((k) => k.subject),
        this.newKeys.map((k) => k.wrapped),
        this.newKeys.map((k) => k.createdAt),
      ],
    );
  }

  /** The parameters of VERSION_CTES. */
  private versionParams(): unknown[] {
    const moved = [...this.heads.values()].filter((head) => head.moved);
    const usage = [...this.added];
    return [
      ...this.rows.params(),
      moved.map((h) => h.product),
      moved.map((h) => h.class),
      moved.map((h) => h.name),
      moved.map((h) => h.version),
      moved.map((h) => h.tombstone),
      usage.map(([product]) => product),
      usage.map(([, u]) => u.bytes),
      usage.map(([, u]) => u.artifacts),
      ...this.rows.sealedParams(),
      this.completed,
      this.etags.map((e) => e.version.product),
      this.etags.map((e) => e.version.class),
      this.etags.map((e) => e.version.name),
      this.etags.map((e) => e.version.version),
      this.etags.map((e) => e.etag),
    ];
  }

  /** Every product's usage as the batch leaves it (once committed); null without versions. */
  usageAfter(): UsageCounters | null {
    return this.usage;
  }
}
