/**
 * Versions matched in shares (audit/verify.ts `versionPasses`, verify-versions.ts `passesFor`):
 * whatever the number of passes, verification reads every version once, finds the same problems,
 * and holds only one share's claims at a time.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { VerifyVersion } from '../../../src/audit/verify.js';
import { CLAIMS_PER_PASS, passesFor } from '../../../src/audit/verify-versions.js';
import { verifyAuditLog } from '../../../src/audit/verify.js';
import { buildLog, edit, sourceOf, type Log } from '../../helpers/audit-log.js';

async function* each<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

/** A log of 50 versions with one problem of each kind a version can have. */
function troubled(): Log {
  const log = buildLog(200, [0, 200]);
  const at = (i: number) => log.versions[i] as VerifyVersion;
  // A changed content, a renamed version (unaudited, and its claim unstored), a lost row.
  log.versions[3] = { ...at(3), inline: edit(at(3).inline as Buffer, '4', '9') };
  log.versions[10] = { ...at(10), version: { ...at(10).version, name: 'renamed.json' } };
  log.versions.splice(20, 1);
  return log;
}

describe('verifyAuditLog in shares of the versions', () => {
  it('finds the same problems and reads every version once, in 1, 3 or 7 passes', async () => {
    const log = troubled();
    const sorted = (problems: { code: string; message: string }[]) =>
      problems.map((p) => `${p.code}: ${p.message}`).sort();
    const reports = [];
    for (const passes of [1, 3, 7]) {
      const digests: string[] = [];
      const report = await verifyAuditLog(
        sourceOf(log, {
          versions: each(log.versions),
          versionPasses: {
            passes,
            entries: () => each(log.entries),
            versions: () => each(log.versions),
          },
          contentDigest: async (stored) => {
            digests.push(`${stored.version.name}@${stored.version.version}`);
            const bytes = stored.inline ?? Buffer.alloc(0);
            return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
          },
        }),
      );
      // Each version's content is read in exactly one pass.
      expect(new Set(digests).size).toBe(digests.length);
      expect(digests).toHaveLength(log.versions.length);
      expect(report.versions).toBe(log.versions.length);
      reports.push(sorted(report.problems));
    }
    expect(reports[0]).toHaveLength(4);
    expect(reports[1]).toEqual(reports[0]);
    expect(reports[2]).toEqual(reports[0]);
  });

  it('asks for one pass per CLAIMS_PER_PASS versions', () => {
    expect(passesFor(0)).toBe(1);
    expect(passesFor(CLAIMS_PER_PASS)).toBe(1);
    expect(passesFor(CLAIMS_PER_PASS + 1)).toBe(2);
    expect(passesFor(10_000_000)).toBe(Math.ceil(10_000_000 / CLAIMS_PER_PASS));
  });
});
