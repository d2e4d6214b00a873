/**
 * The policy component of drift (SPEC §9): the live policy against the baseline's. A difference is
 * explained when every version since the baseline's was made through the API — its document hashes
 * to the hash an allowed audit entry recorded for it (as verify-governance.ts checks) — and the
 * baseline's own version still has the document the baseline signed. A row edited or inserted in
 * the database has no such entry: drift.
 */
import { policyHash } from '../domain/canonical.js';
import type { DriftBaseline } from '../domain/drift.js';
import type { PolicyVersion } from '../domain/policy.js';
import { isJsonObject } from '../audit/entry.js';
import type { MetadataStore } from '../storage/ports.js';
import type { AuditService } from './audit.js';

/** How far around a version's creation time its entry is looked for (nodes' clocks differ). */
const CLOCK_SLACK_MS = 60_000;

export interface PolicyFinding {
  readonly live: string;
  readonly liveVersion: number;
  readonly explained: boolean;
  readonly explanation: string | null;
  /** The live document (class schemas are read from it). */
  readonly document: PolicyVersion['document'];
}

export class PolicyDrift {
  /** Versions whose entry was found, by `version:hash`: the entry's index. */
  private readonly vouched = new Map<string, number>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly audit: AuditService,
  ) {}

  async check(baseline: DriftBaseline): Promise<PolicyFinding> {
    const versions = await this.metadata.listPolicies();
    const latest = versions[versions.length - 1];
    if (!latest) throw new Error('no policy version is stored');
    const live = policyHash(latest.document);
    const finding = (explained: boolean, explanation: string | null): PolicyFinding => ({
      live,
      liveVersion: latest.version,
      explained,
      explanation,
      document: latest.document,
    });
    const base = versions.find((v) => v.version === baseline.policyVersion);
    if (!base || policyHash(base.document) !== baseline.components.policy) {
      return finding(
        false,
        `policy version ${baseline.policyVersion} no longer holds the document the baseline ` +
          'signed: it was changed in the database',
      );
    }
    if (latest.version === baseline.policyVersion) return finding(true, null);
    const indexes: number[] = [];
    for (const version of versions.filter((v) => v.version > baseline.policyVersion)) {
      const index = await this.vouchedEntry(version);
      if (index === null) {
        return finding(
          false,
          `policy version ${version.version} has no audit entry recording its document: ` +
            'it was written or changed in the database, not through the API',
        );
      }
      indexes.push(index);
    }
    const first = baseline.policyVersion + 1;
    return finding(
      true,
      first === latest.version
        ? `policy version ${first} was made through the API (audit entry ${indexes.join('')})`
        : `policy versions ${first}–${latest.version} were made through the API ` +
            `(audit entries ${indexes.join(', ')})`,
    );
  }

  /**
   * The allowed entry recording `version` as stored (its document hashing to its hash), or null
   * (drift, and certification G6 for every version).
   */
  async vouchedEntry(version: PolicyVersion): Promise<number | null> {
    const computed = policyHash(version.document);
    return computed === version.hash ? this.entryOf(version, computed) : null;
  }

  /** The allowed entry recording `version` with `hash`, or null; found once, then remembered. */
  private async entryOf(version: PolicyVersion, hash: string): Promise<number | null> {
    const key = `${version.version}:${hash}`;
    const known = this.vouched.get(key);
    if (known !== undefined) return known;
    const created = Date.parse(version.createdAt);
    const size = await this.metadata.auditSize();
    const from = await this.audit.firstIndexAt(
      new Date(created - CLOCK_SLACK_MS).toISOString(),
      size,
    );
    const until = new Date(created + CLOCK_SLACK_MS).toISOString();
    for await (const entry of this.metadata.auditRangeIndexed(from, size)) {
      if (entry.columns.time > until) break;
      if (!entry.columns.allow || entry.columns.principalId !== version.createdBy) continue;
      const parsed: unknown = JSON.parse(entry.canonical.toString('utf8'));
      const policy = isJsonObject(parsed) ? parsed['policy'] : undefined;
      if (!isJsonObject(policy) || policy['version'] !== version.version) continue;
      if (policy['hash'] !== hash) return null;
      this.vouched.set(key, entry.index);
      return entry.index;
    }
    return null;
  }
}
