/**
 * The S3 door (SPEC §13, issue 22) beside the native API of the same Bucket, in the same run:
 * 1 KiB PutObject and GetObject rates (presigned URLs: the full SigV4 verification on every
 * request) against native 1 KiB PUT and GET, each side measured in two halves in the order S3,
 * native, native, S3 (so that neither gains from running second, on a warmer process or a
 * quieter minute); and large transfers by comparable clients (`../s3-transfer.ts`). Targets:
 * ≥ 80 % of native.
 */
import { measureLoad, type LoadResult, type LoadSpec } from '../load.js';
import type { Row } from '../report.js';
import { presignedPath } from '../s3-presign.js';
import { cliTransfer, sdkTransfer } from '../s3-transfer.js';
import { artifactPath, BENCH_CLASS, BENCH_PRODUCT } from '../servers.js';
import type { Suite, SuiteContext } from '../suite.js';
import { S3_RATE } from '../targets.js';
import { problems, uniqueBody } from './small-requests.js';

/** Two runs' results as one (rates over their summed time; latencies as the worse run's p99). */
function combined(a: LoadResult, b: LoadResult, seconds: number): LoadResult {
  const answered = (r: LoadResult) => r.ok + r.non2xx;
  const cpu =
    a.serverCpuMicrosPerRequest !== null && b.serverCpuMicrosPerRequest !== null
      ? (a.serverCpuMicrosPerRequest * answered(a) + b.serverCpuMicrosPerRequest * answered(b)) /
        Math.max(1, answered(a) + answered(b))
      : null;
  const statusCodes: Record<string, number> = { ...a.statusCodes };
  for (const [status, count] of Object.entries(b.statusCodes)) {
    statusCodes[status] = (statusCodes[status] ?? 0) + count;
  }
  return {
    okPerSecond: (a.ok + b.ok) / (2 * seconds),
    ok: a.ok + b.ok,
    non2xx: a.non2xx + b.non2xx,
    errors: a.errors + b.errors,
    latencyP50Ms: (a.latencyP50Ms + b.latencyP50Ms) / 2,
    latencyP99Ms: Math.max(a.latencyP99Ms, b.latencyP99Ms),
    serverCpuMicrosPerRequest: cpu,
    statusCodes,
  };
}

/** The S3 side and the native side, each after a warm-up, in halves: S3, native, native, S3. */
async function pair(
  context: SuiteContext,
  label: string,
  s3: Omit<LoadSpec, 'seconds'>,
  native: Omit<LoadSpec, 'seconds'>,
): Promise<{ s3: LoadResult; native: LoadResult }> {
  const { profile, log } = context;
  const half = Math.max(1, profile.loadSeconds / 2);
  log(`${label}: ${profile.connections} connections, S3 and native ${half} s twice each`);
  const warm = (spec: Omit<LoadSpec, 'seconds'>) =>
    measureLoad({
      ...spec,
      path: (n) => spec.path(n + 1_000_000),
      seconds: profile.warmupSeconds,
    });
  await warm(s3);
  await warm(native);
  // Each run numbers its requests apart: a PUT never reuses another run's name.
  const runOf = (spec: Omit<LoadSpec, 'seconds'>, offset: number) =>
    measureLoad({ ...spec, path: (n) => spec.path(n + offset), seconds: half });
  const s3First = await runOf(s3, 0);
  const nativeFirst = await runOf(native, 0);
  const nativeSecond = await runOf(native, 2_000_000);
  const s3Second = await runOf(s3, 2_000_000);
  return {
    s3: combined(s3First, s3Second, half),
    native: combined(nativeFirst, nativeSecond, half),
  };
}

function rateRow(name: string, { s3, native }: { s3: LoadResult; native: LoadResult }): Row {
  const note = [problems('s3', s3), problems('native', native)].filter(Boolean).join('; ');
  return {
    name,
    unit: 'req/s (bare = native API)',
    bucket: s3.okPerSecond,
    bare: native.okPerSecond,
    target: S3_RATE,
    ...(note ? { note } : {}),
    details: { bucket: s3, bare: native },
  };
}

export const s3Door: Suite = {
  name: 's3',
  async run(context) {
    const { bucket } = context;
    const s3 = bucket.s3;
    if (!s3) throw new Error('the Bucket under test has no S3 door');
    const common = { connections: context.profile.connections, serverPid: bucket.server.pid };
    const key = (phase: string, n: number) => `${BENCH_CLASS}/bench/s3/${phase}-${n}.bin`;
    const puts = await pair(
      context,
      'PutObject and native PUT, 1 KiB',
      {
        ...common,
        baseUrl: s3.url,
        method: 'PUT',
        path: (n) => presignedPath(s3, 'PUT', BENCH_PRODUCT, key('put', n)),
        body: (n) => uniqueBody('s3', n),
        headers: { 'content-type': 'application/octet-stream' },
      },
      {
        ...common,
        baseUrl: bucket.server.url,
        method: 'PUT',
        path: (n) => artifactPath(`bench/s3-native/put-${n}.bin`),
        body: (n) => uniqueBody('native', n),
        headers: {
          authorization: bucket.authorization,
          'content-type': 'application/octet-stream',
        },
      },
    );
    const readKey = key('read', 0);
    const seeded = await fetch(s3.url + presignedPath(s3, 'PUT', BENCH_PRODUCT, readKey), {
      method: 'PUT',
      body: uniqueBody('read', 0),
    });
    if (seeded.status !== 200) throw new Error(`seeding the S3 read: ${seeded.status}`);
    const readPath = presignedPath(s3, 'GET', BENCH_PRODUCT, readKey);
    const gets = await pair(
      context,
      'GetObject and native GET, 1 KiB',
      { ...common, baseUrl: s3.url, method: 'GET', path: () => readPath, headers: {} },
      {
        ...common,
        baseUrl: bucket.server.url,
        method: 'GET',
        path: () => artifactPath(readKey.slice(BENCH_CLASS.length + 1)),
        headers: { authorization: bucket.authorization },
      },
    );
    return [
      rateRow('S3 PutObject 1 KiB (presigned) vs native PUT', puts),
      rateRow('S3 GetObject 1 KiB (presigned) vs native GET', gets),
      ...(await sdkTransfer(context, s3)),
      ...(await cliTransfer(context, s3)),
    ];
  },
};
