/**
 * The S3 door (SPEC §13, issue 22) beside the native API of the same Bucket, in the same run:
 * 1 KiB PutObject and GetObject rates (presigned URLs: the full SigV4 verification on every
 * request) against native 1 KiB PUT and GET, and an `aws s3 cp` of the transfer size (multipart)
 * up and down against the native streamed upload and download. Targets: ≥ 80 % of native.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureLoad, type LoadResult } from '../load.js';
import { MiB } from '../options.js';
import type { Row } from '../report.js';
import { presignedPath } from '../s3-presign.js';
import { artifactPath, BENCH_CLASS, BENCH_PRODUCT, type S3UnderTest } from '../servers.js';
import type { Suite, SuiteContext } from '../suite.js';
import { S3_RATE, S3_TRANSFER } from '../targets.js';
import { download, upload } from '../transfer.js';
import { problems, uniqueBody } from './small-requests.js';

const AWS = '/usr/bin/aws';

async function rate(context: SuiteContext, label: string, spec: Parameters<typeof measureLoad>[0]) {
  const { profile, log } = context;
  log(`${label}: ${profile.connections} connections, ${profile.loadSeconds} s`);
  await measureLoad({
    ...spec,
    path: (n) => spec.path(n + 1_000_000),
    seconds: profile.warmupSeconds,
  });
  return measureLoad({ ...spec, seconds: profile.loadSeconds });
}

function rateRow(name: string, s3: LoadResult, native: LoadResult): Row {
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

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(AWS, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin', ...env } });
    let stderr = '';
    child.stderr.on('data', (piece: Buffer) => (stderr += piece.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

async function awsTransfer(context: SuiteContext, s3: S3UnderTest): Promise<Row[]> {
  const { bucket, profile, log } = context;
  const bytes = profile.transferBytes;
  const label = `${bytes / MiB} MB`;
  if (!existsSync(AWS)) {
    return [
      {
        name: `aws s3 cp ${label}`,
        unit: 'MB/s',
        bucket: null,
        bare: null,
        note: `${AWS} is missing`,
      },
    ];
  }
  const work = await mkdtemp(join(tmpdir(), 'bucket-bench-s3-'));
  try {
    const source = join(work, 'source.bin');
    const chunk = randomBytes(MiB);
    await writeFile(source, Buffer.concat(Array.from({ length: bytes / MiB }, () => chunk)));
    await writeFile(join(work, 'config'), '[default]\ns3 =\n  addressing_style = path\n');
    const env = {
      HOME: work,
      AWS_CONFIG_FILE: join(work, 'config'),
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const target = `s3://${BENCH_PRODUCT}/${BENCH_CLASS}/bench/s3/${bytes}.bin`;
    log(`aws s3 cp ${label} up and down`);
    const timed = async (args: string[]) => {
      const started = process.hrtime.bigint();
      const result = await run([...args, '--endpoint-url', s3.url, '--only-show-errors'], env);
      return { ...result, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    };
    const up = await timed(['s3', 'cp', source, target]);
    const down = await timed(['s3', 'cp', target, join(work, 'back.bin')]);
    const backSize = down.status === 0 ? (await stat(join(work, 'back.bin'))).size : 0;
    log(`native ${label} upload and download`);
    const auth = { authorization: bucket.authorization };
    const path = artifactPath(`bench/s3-native/${bytes}.bin`);
    const nativeUp = await upload(bucket.server.url + path, bytes, auth);
    const nativeDown = await download(bucket.server.url + path, auth);
    const speed = (seconds: number, ok: boolean) =>
      ok && seconds > 0 ? bytes / MiB / seconds : null;
    const note = (result: { status: number | null; stderr: string }) =>
      result.status === 0
        ? {}
        : { note: `aws exited ${result.status}: ${result.stderr.slice(0, 200)}` };
    return [
      {
        name: `aws s3 cp ${label} upload (multipart; CLI start-up included)`,
        unit: 'MB/s (bare = native API)',
        bucket: speed(up.seconds, up.status === 0),
        bare: speed(nativeUp.seconds, nativeUp.status === 201),
        target: S3_TRANSFER,
        ...note(up),
      },
      {
        name: `aws s3 cp ${label} download (CLI start-up included)`,
        unit: 'MB/s (bare = native API)',
        bucket: speed(down.seconds, down.status === 0 && backSize === bytes),
        bare: speed(nativeDown.seconds, nativeDown.status === 200),
        target: S3_TRANSFER,
        ...note(down),
      },
    ];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export const s3Door: Suite = {
  name: 's3',
  async run(context) {
    const { bucket } = context;
    const s3 = bucket.s3;
    if (!s3) throw new Error('the Bucket under test has no S3 door');
    const common = { connections: context.profile.connections, serverPid: bucket.server.pid };
    const key = (phase: string, n: number) => `${BENCH_CLASS}/bench/s3/${phase}-${n}.bin`;
    const s3Puts = await rate(context, 'S3 PutObject 1 KiB', {
      ...common,
      seconds: 0,
      baseUrl: s3.url,
      method: 'PUT',
      path: (n) => presignedPath(s3, 'PUT', BENCH_PRODUCT, key('put', n)),
      body: (n) => uniqueBody('s3', n),
      headers: { 'content-type': 'application/octet-stream' },
    });
    const nativePuts = await rate(context, 'native PUT 1 KiB', {
      ...common,
      seconds: 0,
      baseUrl: bucket.server.url,
      method: 'PUT',
      path: (n) => artifactPath(`bench/s3-native/put-${n}.bin`),
      body: (n) => uniqueBody('native', n),
      headers: { authorization: bucket.authorization, 'content-type': 'application/octet-stream' },
    });
    const readKey = key('read', 0);
    const seeded = await fetch(s3.url + presignedPath(s3, 'PUT', BENCH_PRODUCT, readKey), {
      method: 'PUT',
      body: uniqueBody('read', 0),
    });
    if (seeded.status !== 200) throw new Error(`seeding the S3 read: ${seeded.status}`);
    const readPath = presignedPath(s3, 'GET', BENCH_PRODUCT, readKey);
    const s3Gets = await rate(context, 'S3 GetObject 1 KiB', {
      ...common,
      seconds: 0,
      baseUrl: s3.url,
      method: 'GET',
      path: () => readPath,
      headers: {},
    });
    const nativeGets = await rate(context, 'native GET 1 KiB', {
      ...common,
      seconds: 0,
      baseUrl: bucket.server.url,
      method: 'GET',
      path: () => artifactPath(readKey.slice(BENCH_CLASS.length + 1)),
      headers: { authorization: bucket.authorization },
    });
    return [
      rateRow('S3 PutObject 1 KiB (presigned) vs native PUT', s3Puts, nativePuts),
      rateRow('S3 GetObject 1 KiB (presigned) vs native GET', s3Gets, nativeGets),
      ...(await awsTransfer(context, s3)),
    ];
  },
};
