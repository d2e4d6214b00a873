/**
 * The floor of a governed write (issue 21): what the embedded store alone spends to commit one
 * version with everything SPEC §6 commits beside it — the version's row, its head, the usage
 * counters, its event and its audit entry (canonical JSON, facts hash, Merkle leaf) — `group` at a
 * time in one group commit and one durability wait, as a batch's items share them. Run in the
 * bench's process on a fresh SQLite store (building each commit — its content hash and facts — counted
 * too): no HTTP, no parse, no gate, no rate or slot. A batch
 * item cannot be cheaper than this; the batch row's distance above it is the rest of the work.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealFacts } from '../../../src/audit/version-facts.js';
import { retentionFor, type ArtifactVersion } from '../../../src/domain/artifact.js';
import { storageLimitsOf } from '../../../src/domain/usage.js';
import { defaultPolicyVersion } from '../../../src/policy/load.js';
import type { VersionCommit } from '../../../src/storage/ports.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import { BENCH_CLASS, BENCH_PRODUCT } from '../servers.js';

export interface CommitFloor {
  readonly commits: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** This process's CPU time (all threads: the durability waits' too) per commit. */
  readonly cpuMicrosPerCommit: number;
}

const LIMITS = storageLimitsOf(defaultPolicyVersion().document, BENCH_PRODUCT);

function commitOf(n: number): VersionCommit {
  const content = Buffer.alloc(1024, `floor-${n}`);
  const createdAt = new Date().toISOString();
  const version: ArtifactVersion = {
    product: BENCH_PRODUCT,
    class: BENCH_CLASS,
    name: `bench/floor/${n}.bin`,
    version: 1,
    sha256: createHash('sha256').update(content).digest('hex'),
    size: content.length,
    contentType: 'application/octet-stream',
    meta: {},
    createdAt,
    createdBy: 'key_bench',
    retention: retentionFor({ mode: 'none', period: null }, createdAt),
    tombstone: false,
    storage: 'inline',
  };
  const sealed = sealFacts(version);
  return {
    version,
    expectedCurrentVersion: 0,
    inline: content,
    factsSalt: sealed.salt,
    limits: LIMITS,
    audit: {
      decision: {
        id: randomUUID(),
        allow: true,
        status: 201,
        operation: 'CREATE',
        principal: { id: 'key_bench', kind: 'product', product: BENCH_PRODUCT },
        target: { product: BENCH_PRODUCT, class: BENCH_CLASS, name: version.name },
        reasons: [],
        threats: [],
        policyVersion: 1,
      },
      requestId: `req_floor_${n}`,
      sha256: version.sha256,
      size: version.size,
      version: 1,
      facts: sealed.facts,
    },
  };
}

export async function measureCommitFloor(seconds: number, group: number): Promise<CommitFloor> {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-bench-floor-'));
  const store = new SqliteMetadataStore(join(dir, 'bucket.db'));
  try {
    await store.init();
    let n = 0;
    const round = async () => {
      const results = await Promise.all(
        Array.from({ length: group }, () => store.commitVersion(commitOf(n++))),
      );
      if (!results.every((result) => result.ok)) throw new Error('a floor commit was refused');
    };
    // Unmeasured first: the statements prepared, the code JIT-compiled.
    for (let i = 0; i < 20; i++) await round();
    const first = n;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) await round();
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    const commits = n - first;
    return {
      commits,
      seconds: elapsed,
      perSecond: commits / elapsed,
      cpuMicrosPerCommit: (used.user + used.system) / commits,
    };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
