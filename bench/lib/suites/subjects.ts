/**
 * Issue 18, data subjects: (1) a subject-bound 200 MB (quick: 50 MB) upload and download (sealed at rest,
 * decision 0033) against the same transfer without a subject, on the same Bucket in the same run,
 * alternating plain, sealed, plain, sealed so that neither order nor drift favours one; (2) the
 * erasure of a subject with 10,000 versions, in-process on the embedded store.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createBucket } from '../../../src/bucket.js';
import { configFromEnv } from '../../../src/config.js';
import { AllowedAction } from '../../../src/services/authorize.js';
import { MiB } from '../options.js';
import type { Row } from '../report.js';
import { artifactPath } from '../servers.js';
import type { Suite } from '../suite.js';
import { watchPeak } from '../proc.js';
import { ERASURE_SECONDS, SEALED_TRANSFER_RATIO, TRANSFER_PEAK_RSS } from '../targets.js';
import { download, upload, type TransferResult } from '../transfer.js';

const ERASED_VERSIONS = 10_000;
/** Versions of the erasure row whose contents are each a blob (removed after the erasure). */
const ERASED_BLOB_VERSIONS = 2_000;

const rate = (result: TransferResult) =>
  result.seconds > 0 && result.status < 300 ? result.bytes / MiB / result.seconds : 0;
const mean = (values: readonly number[]) =>
  values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

export const subjectTransfer: Suite = {
  name: 'subject transfer',
  async run({ profile, bucket, log }) {
    // 200 MB in a full run (the figure), less in a quick one.
    const bytes = profile.transferBytes;
    const label = `${bytes / MiB} MB`;
    const auth = { authorization: bucket.authorization };
    const plain = { up: [] as number[], down: [] as number[] };
    const sealed = { up: [] as number[], down: [] as number[] };
    const problems: string[] = [];
    let sealedPeak = 0;
    for (const round of [1, 2]) {
      for (const variant of ['plain', 'sealed'] as const) {
        const path = artifactPath(`bench/subject/${variant}-${round}-${randomUUID()}.bin`);
        const headers =
          variant === 'sealed' ? { ...auth, 'x-bucket-meta-subject': 'bench:subject-1' } : auth;
        log(`${bytes / MiB} MB upload and download, ${variant} (round ${round})`);
        const peak = await watchPeak(bucket.server.pid);
        const up = await upload(bucket.server.url + path, bytes, headers);
        const down = await download(bucket.server.url + path, auth);
        const rss = await peak.stop();
        if (variant === 'sealed' && rss !== null) sealedPeak = Math.max(sealedPeak, rss);
        if (up.status !== 201 || down.bytes !== bytes) {
          problems.push(`${variant}: upload ${up.status}, download ${down.bytes} bytes`);
        }
        const into = variant === 'sealed' ? sealed : plain;
        into.up.push(rate(up));
        into.down.push(rate(down));
      }
    }
    const note = problems.length ? { note: problems.join('; ') } : {};
    const ratio = (a: number[], b: number[]) => (mean(b) > 0 ? (mean(a) / mean(b)) * 100 : 0);
    const row = (name: string, value: number, unit: string, target?: Row['target']): Row => ({
      name,
      unit,
      bucket: value,
      bare: null,
      ...(target ? { target } : {}),
      ...note,
    });
    return [
      row(`Upload ${label}, subject-bound (sealed)`, mean(sealed.up), 'MB/s'),
      row(`Upload ${label}, no subject`, mean(plain.up), 'MB/s'),
      row(`Download ${label}, subject-bound (sealed)`, mean(sealed.down), 'MB/s'),
      row(`Download ${label}, no subject`, mean(plain.down), 'MB/s'),
      row(`Peak RSS, sealed ${label} up + down`, sealedPeak / MiB, 'MB', TRANSFER_PEAK_RSS),
      row('Sealed ÷ plain upload rate', ratio(sealed.up, plain.up), '%', SEALED_TRANSFER_RATIO),
      row(
        'Sealed ÷ plain download rate',
        ratio(sealed.down, plain.down),
        '%',
        SEALED_TRANSFER_RATIO,
      ),
    ];
  },
};

/**
 * `count` versions of one subject written (inline, or each its own blob when `inlineMax` is 0),
 * then the erasure of that subject, timed from the call to its report (blob removals included).
 */
async function timedErasure(
  log: (line: string) => void,
  count: number,
  inlineMax: number,
): Promise<{ seconds: number; erased: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-bench-erasure-'));
  const bucket = await createBucket(
    configFromEnv({
      BUCKET_DATA_DIR: dir,
      BUCKET_LOG_LEVEL: 'silent',
      BUCKET_INLINE_MAX_BYTES: String(inlineMax),
    }),
  );
  try {
    const owner = { id: 'bench', kind: 'owner' as const, product: null, integrationId: null };
    const principal = { ...owner, id: 'key_owner' };
    const writer = {
      id: 'bench-writer',
      kind: 'core' as const,
      product: 'core',
      integrationId: null,
    };
    log(`writing ${count} versions of one subject${inlineMax === 0 ? ', each a blob' : ''}`);
    const write = async (n: number): Promise<void> => {
      for (;;) {
        try {
          await bucket.artifacts.put({
            requestId: `bench-${n}`,
            principal: writer,
            product: 'core',
            class: 'agent_output',
            name: `bench/erase/${n}.json`,
            contentType: 'application/json',
            declaredSize: null,
            meta: { subject: 'bench:erased' },
            preconditions: { ifNoneMatch: false, ifVersion: null },
            sha256Claim: null,
            body: Readable.from([Buffer.from(`{"n":${n}}`)]),
          });
          return;
        } catch (error) {
          // The shipped policy's write rate (1,000/s): wait for the next window.
          if ((error as { code?: string }).code !== 'rate_limited') throw error;
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    };
    // 40 at a time: under the product's share of concurrent writes (half of 100, shipped).
    for (let n = 0; n < count; n += 40) {
      await Promise.all(Array.from({ length: Math.min(40, count - n) }, (_, i) => write(n + i)));
    }
    const allowed: AllowedAction = await bucket.authorizer.action(
      { requestId: 'bench-erasure', principal },
      'erasures.create',
      201,
    );
    log(`erasing ${count} versions`);
    const started = process.hrtime.bigint();
    const report = await bucket.erasures.erase(
      { subject: 'bench:erased', reason: 'bench' },
      { decision: allowed.decision, entry: allowed.entry!, requestId: 'bench-erasure', principal },
    );
    return {
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      erased: report.erased.length,
    };
  } finally {
    await bucket.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const subjectErasure: Suite = {
  name: 'subject erasure',
  async run({ log }) {
    const rows: Row[] = [];
    for (const [count, inlineMax, label] of [
      [ERASED_VERSIONS, 64 * 1024, 'versions'],
      [ERASED_BLOB_VERSIONS, 0, 'versions, each a blob'],
    ] as const) {
      const { seconds, erased } = await timedErasure(log, count, inlineMax);
      rows.push({
        name: `Erasure of a subject with ${count.toLocaleString('en')} ${label}`,
        unit: 's',
        bucket: seconds,
        bare: null,
        ...(inlineMax > 0 ? { target: ERASURE_SECONDS } : {}),
        ...(erased === count ? {} : { note: `erased ${erased} of ${count}` }),
      });
    }
    return rows;
  },
};
