/**
 * One large streamed upload and download per server (one client, generated source, nothing held
 * whole on either side): MB/s each way and the server's peak RSS across both.
 */
import { statusBytes, watchPeak } from '../proc.js';
import { MiB } from '../options.js';
import type { Row } from '../report.js';
import { artifactPath } from '../servers.js';
import type { Suite } from '../suite.js';
import { TRANSFER_PEAK_RSS, TRANSFER_SPEED } from '../targets.js';
import { download, upload, type TransferResult } from '../transfer.js';

interface ServerTransfer {
  readonly upload: TransferResult;
  readonly download: TransferResult;
  /** RSS in bytes when the upload starts, and the peak over the upload and the download. */
  readonly rssBefore: number | null;
  readonly peakRss: number | null;
  readonly problem: string | null;
}

const mibPerSecond = (result: TransferResult) =>
  result.seconds > 0 ? result.bytes / MiB / result.seconds : 0;

/** What is wrong with a transfer, or null: wrong status, or not the bytes that were sent. */
function check(kind: string, result: TransferResult, status: number, bytes: number): string | null {
  if (result.status !== status) return `${kind} answered ${result.status}: ${result.answer}`;
  if (result.bytes !== bytes) return `${kind} moved ${result.bytes} of ${bytes} bytes`;
  return null;
}

/** The Bucket's answer carries its own count of the bytes it stored (SPEC §3 `size`). */
function storedSizeProblem(result: TransferResult, bytes: number): string | null {
  try {
    const { size } = JSON.parse(result.answer) as { size?: unknown };
    return size === bytes ? null : `upload stored ${String(size)} of ${bytes} bytes`;
  } catch {
    return `upload answer is not JSON: ${result.answer}`;
  }
}

export const largeTransfer: Suite = {
  name: 'large transfer',
  async run({ profile, bucket, bare, log }) {
    const bytes = profile.transferBytes;
    const label = `${bytes / MiB} MB`;
    const path = artifactPath(`bench/large/${bytes}.bin`);

    const measure = async (
      name: string,
      pid: number,
      put: () => Promise<TransferResult>,
      get: () => Promise<TransferResult>,
    ): Promise<ServerTransfer> => {
      log(`${label} upload and download: ${name}`);
      const rssBefore = await statusBytes(pid, 'VmRSS');
      const peak = await watchPeak(pid);
      const uploaded = await put();
      const downloaded = await get();
      const peakRss = await peak.stop();
      const problem =
        check('upload', uploaded, 201, bytes) ?? check('download', downloaded, 200, bytes);
      return { upload: uploaded, download: downloaded, rssBefore, peakRss, problem };
    };

    const auth = { authorization: bucket.authorization };
    const bareResult = await measure(
      'bare Fastify',
      bare.pid,
      () => upload(bare.url + path, bytes, {}),
      () => download(`${bare.url}${path}?bytes=${bytes}`, {}),
    );
    const bucketResult = await measure(
      'Bucket',
      bucket.server.pid,
      () => upload(bucket.server.url + path, bytes, auth),
      () => download(bucket.server.url + path, auth),
    );
    const bucketProblem = bucketResult.problem ?? storedSizeProblem(bucketResult.upload, bytes);

    const note = [
      bucketProblem && `bucket ${bucketProblem}`,
      bareResult.problem && `bare ${bareResult.problem}`,
    ]
      .filter((problem): problem is string => typeof problem === 'string')
      .join('; ');
    const toMiB = (value: number | null) => (value === null ? null : value / MiB);
    const speedRow = (name: string, pick: (transfer: ServerTransfer) => TransferResult): Row => ({
      name,
      unit: 'MB/s',
      bucket: mibPerSecond(pick(bucketResult)),
      bare: mibPerSecond(pick(bareResult)),
      target: TRANSFER_SPEED,
      ...(note ? { note } : {}),
      details: { bucket: pick(bucketResult), bare: pick(bareResult) },
    });
    return [
      speedRow(`Upload ${label}`, (transfer) => transfer.upload),
      speedRow(`Download ${label}`, (transfer) => transfer.download),
      {
        name: `Peak RSS, ${label} up + down`,
        unit: 'MB',
        bucket: toMiB(bucketResult.peakRss),
        bare: toMiB(bareResult.peakRss),
        target: TRANSFER_PEAK_RSS,
        ...(bucketResult.peakRss === null ? { note: 'could not read /proc/<pid>/status' } : {}),
        details: {
          bucket: { rssBeforeMB: toMiB(bucketResult.rssBefore) },
          bare: { rssBeforeMB: toMiB(bareResult.rssBefore) },
        },
      },
    ];
  },
};
