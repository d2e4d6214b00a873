/**
 * Erasure reports (SPEC §8) against the entries that carry their hashes: each stored report must
 * hash (RFC 8785, without its `audit` member) to the `reportSha256` of the erasure entry it names,
 * and each erasure entry must have its report — an erasure's record can be neither rewritten nor
 * dropped unnoticed.
 */
import { erasureReportHash, type ErasureReport } from '../domain/erasure.js';
import { isJsonObject } from './entry.js';
import type { Problems } from './verify-report.js';

interface ErasureClaim {
  readonly index: number;
  readonly reportSha256: unknown;
}

export class ErasureClaims {
  private readonly claims = new Map<string, ErasureClaim>();

  constructor(private readonly problems: Problems) {}

  /** Records an allowed entry's `governance.erasure`, when it has one. */
  record(index: number, parsed: Record<string, unknown>): void {
    if (parsed['allow'] !== true) return;
    const governance = parsed['governance'];
    if (!isJsonObject(governance) || !isJsonObject(governance['erasure'])) return;
    const erasure = governance['erasure'];
    this.claims.set(String(erasure['id']), { index, reportSha256: erasure['reportSha256'] });
  }

  /** Every stored report against its entry; then the entries no report answered. */
  match(reports: readonly ErasureReport[]): void {
    for (const report of reports) {
      const claim = this.claims.get(report.id);
      this.claims.delete(report.id);
      if (!claim || claim.index !== report.audit.leafIndex) {
        this.problems.add(
          'erasure_unaudited',
          `erasure ${report.id}'s report names audit entry ${report.audit.leafIndex}, which does ` +
            'not record it',
        );
      } else if (claim.reportSha256 !== erasureReportHash(report)) {
        this.problems.add(
          'erasure_mismatch',
          `erasure ${report.id}'s stored report does not hash to the reportSha256 of audit entry ` +
            `${claim.index}`,
        );
      }
    }
    for (const [id, claim] of this.claims) {
      this.problems.add(
        'erasure_unstored',
        `audit entry ${claim.index} records erasure ${id}, whose report is not stored`,
      );
    }
  }
}
