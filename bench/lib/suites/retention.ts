/**
 * The retention sweep in-process (issue 18): a sweep over the profile's number of stored versions
 * (1M in a full run), none of them due — the hourly case — read through the retention index;
 * and, for information, a sweep over versions that are all due but kept (current versions of a
 * class whose retention does not expire), where every candidate's artifact is looked at.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Decision } from '../../../src/domain/decision.js';
import { HoldService } from '../../../src/services/holds.js';
import { PolicyService } from '../../../src/services/policies.js';
import { RetentionSweep } from '../../../src/services/retention-sweep.js';
import { FileBlobStore } from '../../../src/storage/fs/blobs.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import type { Row } from '../report.js';
import type { Suite } from '../suite.js';
import { RETENTION_SWEEP_SECONDS } from '../targets.js';

const INSERT_BATCH = 50_000;

const decision: Decision = {
  id: randomUUID(),
  allow: true,
  status: 200,
  operation: 'retention.sweep',
  principal: { id: 'bench', kind: 'executor', product: null },
  target: { product: null, class: null, name: null },
  reasons: [],
  threats: [],
  policyVersion: 1,
};

/** Fills the versions table directly (no audit entries: the sweep reads versions only). */
export function fill(file: string, count: number, until: (n: number) => string | null): void {
  const db = new Database(file);
  try {
    const insert = db.prepare(
      'INSERT INTO versions (product, class, name, version, sha256, size, content_type, meta, ' +
        'created_at, created_by, retention_mode, retention_until, tombstone, storage, ' +
        "inline_content) VALUES ('ai_assistant', 'metadata', ?, 1, ?, 2, 'application/json', " +
        "'{}', '2026-01-01T00:00:00.000Z', 'bench', 'compliance', ?, 0, 'inline', X'7B7D')",
    );
    const head = db.prepare(
      "INSERT INTO artifacts (product, class, name, head_version, tombstone) VALUES ('ai_assistant', 'metadata', ?, 1, 0)",
    );
    for (let start = 0; start < count; start += INSERT_BATCH) {
      db.transaction(() => {
        for (let n = start; n < Math.min(count, start + INSERT_BATCH); n++) {
          const name = `bench/${n}.json`;
          insert.run(name, n.toString(16).padStart(64, '0'), until(n));
          head.run(name);
        }
      })();
    }
  } finally {
    db.close();
  }
}

async function timedSweep(dir: string, now: number) {
  const store = new SqliteMetadataStore(join(dir, 'bucket.db'));
  const blobs = new FileBlobStore(join(dir, 'blobs'));
  await store.init();
  try {
    const policies = new PolicyService(store);
    await policies.init();
    const holds = new HoldService(store, policies, () => now);
    const sweep = new RetentionSweep(store, blobs, policies, holds, {
      now: () => now,
      scheduledDecision: async () => ({ decision, requestId: 'bench' }),
    });
    const started = process.hrtime.bigint();
    const report = await sweep.sweep({ dryRun: false, decision, requestId: 'bench' });
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, report };
  } finally {
    await store.close();
  }
}

export const retention: Suite = {
  name: 'retention sweep',
  async run({ profile, log }) {
    const dir = await mkdtemp(join(tmpdir(), 'bucket-bench-retention-'));
    try {
      const count = profile.auditLogSize;
      const created = new SqliteMetadataStore(join(dir, 'bucket.db'));
      await created.init();
      await created.close();
      log(`retention sweep: ${count} versions, a tenth permanent, the rest due in 2027–2030`);
      const future = (n: number) => (n % 10 === 0 ? null : `${2027 + (n % 4)}-01-01T00:00:00.000Z`);
      fill(join(dir, 'bucket.db'), count, future);
      const none = await timedSweep(dir, Date.parse('2026-12-04T00:00:00.000Z'));
      // In mid-2027 those ending in 2027 are due, all current and of a class that does not
      // expire: each is looked at and kept.
      log('retention sweep: a quarter of the versions due but kept (current, not expiring)');
      const kept = await timedSweep(dir, Date.parse('2027-06-01T00:00:00.000Z'));
      const label = count >= 1_000_000 ? `${count / 1_000_000}M` : `${count / 1000}k`;
      const rows: Row[] = [
        {
          name: `Retention sweep over ${label} versions, none due`,
          unit: 's',
          bucket: none.seconds,
          bare: null,
          ...(count >= 1_000_000 ? { target: RETENTION_SWEEP_SECONDS } : {}),
          ...(none.report.purged.length + none.report.kept > 0
            ? { note: 'versions were due that should not have been' }
            : {}),
          details: {
            bucket: { versions: count, ...none.report, purged: none.report.purged.length },
          },
        },
        {
          name: `Retention sweep, ${kept.report.kept} due but kept`,
          unit: 's',
          bucket: kept.seconds,
          bare: null,
          details: { bucket: { versions: count, kept: kept.report.kept } },
        },
      ];
      return rows;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
