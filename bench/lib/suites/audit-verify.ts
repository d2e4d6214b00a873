/** The bench's full verification of a stored log: what `bucket audit verify` does, timed. */
import { parseVerifierKey } from '../../../src/audit/note.js';
import { verifyAuditLog } from '../../../src/audit/verify.js';
import type { AuditService } from '../../../src/services/audit.js';
import type { MetadataStore } from '../../../src/storage/ports.js';

export interface VerificationFigures {
  readonly seconds: number;
  readonly entries: number;
  readonly checkpoints: number;
  readonly problems: number;
}

export async function verifyStoredLog(
  store: MetadataStore,
  service: AuditService,
): Promise<VerificationFigures> {
  const started = process.hrtime.bigint();
  const size = await store.auditSize();
  const report = await verifyAuditLog({
    entries: store.auditRange(0, size),
    size,
    checkpoints: store.checkpoints(),
    verifier: parseVerifierKey(service.publicKey().vkey),
    versions: store.allVersions(),
    contentDigest: () => Promise.reject(new Error('the bench log stores no versions')),
  });
  return {
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    entries: report.entries,
    checkpoints: report.checkpoints,
    problems: report.problemCount,
  };
}
