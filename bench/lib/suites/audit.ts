/**
 * The audit log in-process (issue 4): the append rate through the store's group commit (batches
 * of concurrent appends, as under load), the inclusion-proof time once the log holds the profile's
 * size (1M entries in a full run), and the full offline-style verification of that log.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditDraft } from '../../../src/audit/entry.js';
import { createSigner } from '../../../src/audit/note.js';
import { AuditService } from '../../../src/services/audit.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import type { Row } from '../report.js';
import type { Suite } from '../suite.js';
import { AUDIT_APPEND_RATE, AUDIT_PROOF_MS, AUDIT_VERIFY_SECONDS } from '../targets.js';
import { verifyStoredLog } from './audit-verify.js';

/** Concurrent appends per turn of the event loop while the rate is measured (one group commit). */
const CONCURRENT = 50;
/** Entries per transaction while the log is filled up to the measured size. */
const FILL_BATCH = 2_000;
const PROOFS = 2_000;

function draft(n: number): AuditDraft {
  return {
    decision: {
      id: randomUUID(),
      allow: true,
      status: 200,
      operation: 'READ',
      principal: { id: `key_${n % 64}`, kind: 'product', product: 'ai_avatar' },
      target: { product: 'ai_avatar', class: 'model_checkpoint', name: `bench/audit/${n}.bin` },
      reasons: [],
      threats: [],
      policyVersion: 1,
    },
    requestId: `req_${n}`,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

export const audit: Suite = {
  name: 'audit log',
  async run({ profile, log }) {
    const dir = await mkdtemp(join(tmpdir(), 'bucket-bench-audit-'));
    const store = new SqliteMetadataStore(join(dir, 'bucket.db'));
    const { privateKey } = generateKeyPairSync('ed25519');
    const service = new AuditService(store, {
      origin: 'bench.example/audit',
      signer: createSigner('bench.example/audit', privateKey),
    });
    try {
      const measured = profile.auditAppends;
      log(`audit appends: ${measured} entries, ${CONCURRENT} concurrent appends per commit`);
      const started = process.hrtime.bigint();
      for (let n = 0; n < measured; n += CONCURRENT) {
        await Promise.all(
          Array.from({ length: Math.min(CONCURRENT, measured - n) }, (_, i) =>
            store.appendAudit([draft(n + i)]),
          ),
        );
      }
      const appendSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      const appendRate = measured / appendSeconds;

      const size = profile.auditLogSize;
      log(`audit log: filling to ${size} entries for the proof and verification rows`);
      for (let n = measured; n < size; n += FILL_BATCH) {
        const count = Math.min(FILL_BATCH, size - n);
        await store.appendAudit(Array.from({ length: count }, (_, i) => draft(n + i)));
      }
      await service.checkpoint();

      log(`audit proofs: ${PROOFS} inclusion proofs at size ${size}`);
      // Unmeasured first round: the proof path JIT-compiled and the tree's pages cached.
      for (let i = 0; i < PROOFS; i++) {
        await service.inclusionProof(Math.floor(Math.random() * size), size);
      }
      const times = new Float64Array(PROOFS);
      for (let i = 0; i < PROOFS; i++) {
        const index = Math.floor(Math.random() * size);
        const t0 = process.hrtime.bigint();
        await service.inclusionProof(index, size);
        times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
      }
      times.sort();
      const proof = { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };

      log(`audit verification: recomputing ${size} entries and every checkpoint`);
      const verification = await verifyStoredLog(store, service);
      const sizeLabel = size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1000}k`;
      const rows: Row[] = [
        {
          name: 'Audit appends per second (in-process)',
          unit: 'entries/s',
          bucket: appendRate,
          bare: null,
          target: AUDIT_APPEND_RATE,
          details: {
            bucket: { entries: measured, seconds: appendSeconds, concurrent: CONCURRENT },
          },
        },
        {
          name: `Inclusion proof p99 at ${sizeLabel} entries`,
          unit: 'ms',
          bucket: proof.p99,
          bare: null,
          target: AUDIT_PROOF_MS,
          details: { bucket: { size, proofs: PROOFS, milliseconds: proof } },
        },
        {
          name: `Verify ${sizeLabel} entries`,
          unit: 's',
          bucket: verification.seconds,
          bare: null,
          // The target is for 1M entries; a quick run's smaller log is for information.
          ...(size >= 1_000_000 ? { target: AUDIT_VERIFY_SECONDS } : {}),
          ...(verification.problems > 0
            ? { note: `${verification.problems} problems reported on an untouched log` }
            : {}),
          details: { bucket: verification },
        },
      ];
      return rows;
    } finally {
      await service.close().catch(() => undefined);
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
