/**
 * Issue 19, integrity on read: what re-hashing a whole read costs. A GET of a whole content is
 * re-hashed as it is served; a Range GET is not (its bytes are a slice the client checks against
 * nothing): the same bytes asked for as `Range: bytes=0-<size-1>` are the same read without the
 * check, on the same Bucket in the same run. 1 KiB reads (inline) under load, and one large
 * download (a blob), alternating checked and unchecked so that neither order nor drift favours
 * one. Target: the checked rate at least 95 % of the unchecked one.
 */
import { measureLoad, type LoadResult } from '../load.js';
import { MiB } from '../options.js';
import type { Row } from '../report.js';
import { artifactPath } from '../servers.js';
import type { Suite } from '../suite.js';
import { INTEGRITY_READ_RATIO } from '../targets.js';
import { download, upload, type TransferResult } from '../transfer.js';
import { uniqueBody } from './small-requests.js';

const ONE_KIB = 1024;
type Variant = 'checked' | 'unchecked';
const VARIANTS: readonly Variant[] = ['checked', 'unchecked'];

const mean = (values: readonly number[]) =>
  values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
const rangeOf = (size: number) => ({ range: `bytes=0-${size - 1}` });

export const integrity: Suite = {
  name: 'integrity on read',
  async run({ profile, bucket, log }) {
    const auth = { authorization: bucket.authorization };
    const problems: string[] = [];

    const small = artifactPath('bench/integrity/read.bin');
    const seeded = await fetch(bucket.server.url + small, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: uniqueBody('integrity', 0),
    });
    if (seeded.status !== 201) throw new Error(`seeding ${small}: ${seeded.status}`);
    const rates: Record<Variant, LoadResult[]> = { checked: [], unchecked: [] };
    for (let round = 1; round <= Math.max(2, profile.rateRounds); round++) {
      for (const variant of VARIANTS) {
        log(`GET 1 KiB, ${variant}, round ${round}`);
        const spec = {
          baseUrl: bucket.server.url,
          method: 'GET' as const,
          path: () => small,
          headers: variant === 'checked' ? auth : { ...auth, ...rangeOf(ONE_KIB) },
          connections: profile.connections,
          serverPid: bucket.server.pid,
        };
        await measureLoad({ ...spec, seconds: profile.warmupSeconds });
        const result = await measureLoad({ ...spec, seconds: profile.loadSeconds });
        if (result.non2xx > 0 || result.errors > 0) {
          problems.push(`${variant}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        }
        rates[variant].push(result);
      }
    }

    const bytes = profile.transferBytes;
    const large = artifactPath(`bench/integrity/${bytes}.bin`);
    const stored = await upload(bucket.server.url + large, bytes, auth);
    if (stored.status !== 201) throw new Error(`seeding ${large}: ${stored.status}`);
    const speeds: Record<Variant, number[]> = { checked: [], unchecked: [] };
    for (const round of [1, 2]) {
      for (const variant of VARIANTS) {
        log(`${bytes / MiB} MB download, ${variant}, round ${round}`);
        const headers = variant === 'checked' ? auth : { ...auth, ...rangeOf(bytes) };
        const got: TransferResult = await download(bucket.server.url + large, headers);
        if (got.bytes !== bytes) problems.push(`${variant} download: ${got.status}, ${got.bytes}`);
        speeds[variant].push(got.seconds > 0 ? got.bytes / MiB / got.seconds : 0);
      }
    }

    const okRate = (variant: Variant) => mean(rates[variant].map((r) => r.okPerSecond));
    const percent = (a: number, b: number) => (b > 0 ? (a / b) * 100 : 0);
    const note = problems.length ? { note: problems.join('; ') } : {};
    const row = (name: string, value: number, unit: string, extra: Partial<Row> = {}): Row => ({
      name,
      unit,
      bucket: value,
      bare: null,
      ...note,
      ...extra,
    });
    return [
      row('GET 1 KiB, re-hashed (whole)', okRate('checked'), 'req/s'),
      row('GET 1 KiB, not re-hashed (as a range)', okRate('unchecked'), 'req/s'),
      row(
        'Integrity on read, 1 KiB GET rate',
        percent(okRate('checked'), okRate('unchecked')),
        '%',
        {
          target: INTEGRITY_READ_RATIO,
          details: { rounds: rates },
        },
      ),
      row(`Download ${bytes / MiB} MB, re-hashed (whole)`, mean(speeds.checked), 'MB/s'),
      row(`Download ${bytes / MiB} MB, not re-hashed (as a range)`, mean(speeds.unchecked), 'MB/s'),
      row(
        `Integrity on read, ${bytes / MiB} MB download rate`,
        percent(mean(speeds.checked), mean(speeds.unchecked)),
        '%',
        { target: INTEGRITY_READ_RATIO, details: { rounds: speeds } },
      ),
    ];
  },
};
