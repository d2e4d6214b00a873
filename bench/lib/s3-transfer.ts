/**
 * The S3 door's large transfers beside the native API's, each pair made by comparable clients:
 *
 * - Debian's AWS CLI (`aws s3 cp`, a Python process, 8 MiB multipart parts, 10 at a time) beside
 *   curl (a process too) sending and fetching the same file through the native API, both timed
 *   from start to exit; the CLI's own start-up (`aws --version`) is measured apart and noted;
 * - the AWS SDK for JavaScript v3 in the bench's process (`@aws-sdk/lib-storage` multipart
 *   upload, 8 MiB parts, 4 at a time, and one GetObject stream) beside the native streamed upload
 *   and download of the same size: the door's own cost, with no client start-up on either side.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { MiB } from './options.js';
import type { Row } from './report.js';
import { cpuSeconds } from './proc.js';
import { artifactPath, BENCH_CLASS, BENCH_PRODUCT, type S3UnderTest } from './servers.js';
import { generatedStream } from './source.js';
import type { SuiteContext } from './suite.js';
import { S3_TRANSFER } from './targets.js';
import { download, upload } from './transfer.js';

const AWS = '/usr/bin/aws';
const CURL = '/usr/bin/curl';
const PART_BYTES = 8 * MiB;

interface Run {
  readonly status: number | null;
  readonly stderr: string;
  readonly seconds: number;
}

function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { PATH: process.env['PATH'] ?? '/usr/bin', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (piece: Buffer) => (stderr += piece.toString()));
    child.once('error', reject);
    child.once('close', (status) =>
      resolve({ status, stderr, seconds: (performance.now() - started) / 1000 }),
    );
  });
}

/** `work` run, with the CPU seconds the server (all its threads and workers) spent meanwhile. */
async function onServer<T>(pid: number, work: () => Promise<T>): Promise<[T, number | null]> {
  const before = await cpuSeconds(pid);
  const value = await work();
  const after = await cpuSeconds(pid);
  return [value, before !== null && after !== null ? after - before : null];
}

/** A row for information: the server's CPU seconds for a transfer, the door's beside native. */
function cpuRow(name: string, s3: number | null, native: number | null): Row {
  return { name, unit: 'server CPU s (bare = native API)', bucket: s3, bare: native };
}

const speed = (bytes: number, seconds: number, ok: boolean) =>
  ok && seconds > 0 ? bytes / MiB / seconds : null;

function failure(what: string, result: Run): { note?: string } {
  return result.status === 0
    ? {}
    : { note: `${what} exited ${result.status}: ${result.stderr.slice(0, 200)}` };
}

/** `aws s3 cp` up and down beside curl through the native API, the same file. */
export async function cliTransfer(context: SuiteContext, s3: S3UnderTest): Promise<Row[]> {
  const { bucket, profile, log } = context;
  const bytes = profile.transferBytes;
  const label = `${bytes / MiB} MB`;
  const missing = [AWS, CURL].filter((command) => !existsSync(command));
  if (missing.length > 0) {
    return [{ name: `aws s3 cp ${label}`, unit: 'MB/s', bucket: null, bare: null }].map((row) => ({
      ...row,
      note: `${missing.join(', ')} missing`,
    }));
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
    const aws = (args: string[]) =>
      run(AWS, [...args, '--endpoint-url', s3.url, '--only-show-errors'], env);
    log(`aws s3 cp ${label} up and down, curl through the native API`);
    const startUp = await run(AWS, ['--version'], env);
    const pid = bucket.server.pid;
    const [up, upCpu] = await onServer(pid, () => aws(['s3', 'cp', source, target]));
    const [down, downCpu] = await onServer(pid, () =>
      aws(['s3', 'cp', target, join(work, 'back.bin')]),
    );
    const backSize = down.status === 0 ? (await stat(join(work, 'back.bin'))).size : 0;
    const url = bucket.server.url + artifactPath(`bench/s3-native/${bytes}.bin`);
    const auth = ['-H', `authorization: ${bucket.authorization}`];
    const curl = (args: string[]) => run(CURL, ['-sSf', '-o', '/dev/null', ...auth, ...args], {});
    const [nativeUp, nativeUpCpu] = await onServer(pid, () =>
      curl(['-T', source, '-H', 'content-type: application/octet-stream', url]),
    );
    const [nativeDown, nativeDownCpu] = await onServer(pid, () => curl([url]));
    const note = `the CLI's start-up alone (aws --version): ${startUp.seconds.toFixed(2)} s`;
    return [
      {
        name: `aws s3 cp ${label} upload (multipart) vs curl (native API)`,
        unit: 'MB/s (bare = curl, native API)',
        bucket: speed(bytes, up.seconds, up.status === 0),
        bare: speed(bytes, nativeUp.seconds, nativeUp.status === 0),
        target: S3_TRANSFER,
        note,
        ...failure('aws', up),
        ...failure('curl', nativeUp),
      },
      {
        name: `aws s3 cp ${label} download vs curl (native API)`,
        unit: 'MB/s (bare = curl, native API)',
        bucket: speed(bytes, down.seconds, down.status === 0 && backSize === bytes),
        bare: speed(bytes, nativeDown.seconds, nativeDown.status === 0),
        target: S3_TRANSFER,
        note,
        ...failure('aws', down),
        ...failure('curl', nativeDown),
      },
      cpuRow(`aws s3 cp ${label} upload vs curl`, upCpu, nativeUpCpu),
      cpuRow(`aws s3 cp ${label} download vs curl`, downCpu, nativeDownCpu),
    ];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The AWS SDK for JavaScript v3 up (multipart) and down, beside native streams, in-process. */
export async function sdkTransfer(context: SuiteContext, s3: S3UnderTest): Promise<Row[]> {
  const { bucket, profile, log } = context;
  const bytes = profile.transferBytes;
  const label = `${bytes / MiB} MB`;
  const client = new S3Client({
    endpoint: s3.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    maxAttempts: 1,
  });
  try {
    log(`AWS SDK ${label} up (multipart) and down, native streams`);
    const Key = `${BENCH_CLASS}/bench/s3/sdk-${bytes}.bin`;
    const pid = bucket.server.pid;
    const cpuBefore = await cpuSeconds(pid);
    let started = performance.now();
    let uploaded = true;
    try {
      await new Upload({
        client,
        params: { Bucket: BENCH_PRODUCT, Key, Body: generatedStream(bytes) },
        partSize: PART_BYTES,
        queueSize: 4,
      }).done();
    } catch {
      uploaded = false;
    }
    const upSeconds = (performance.now() - started) / 1000;
    const cpuBetween = await cpuSeconds(pid);
    started = performance.now();
    let received = 0;
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket: BENCH_PRODUCT, Key }));
      for await (const piece of answer.Body as AsyncIterable<Uint8Array>) received += piece.length;
    } catch {
      received = -1;
    }
    const downSeconds = (performance.now() - started) / 1000;
    const cpuAfter = await cpuSeconds(pid);
    const spent = (from: number | null, to: number | null) =>
      from !== null && to !== null ? to - from : null;
    const auth = { authorization: bucket.authorization };
    const url = bucket.server.url + artifactPath(`bench/s3-native/sdk-${bytes}.bin`);
    const [nativeUp, nativeUpCpu] = await onServer(pid, () => upload(url, bytes, auth));
    const [nativeDown, nativeDownCpu] = await onServer(pid, () => download(url, auth));
    return [
      {
        name: `AWS SDK v3 ${label} upload (multipart, in-process) vs native`,
        unit: 'MB/s (bare = native API)',
        bucket: speed(bytes, upSeconds, uploaded),
        bare: speed(bytes, nativeUp.seconds, nativeUp.status === 201),
        target: S3_TRANSFER,
      },
      {
        name: `AWS SDK v3 ${label} download (GetObject, in-process) vs native`,
        unit: 'MB/s (bare = native API)',
        bucket: speed(bytes, downSeconds, received === bytes),
        bare: speed(bytes, nativeDown.seconds, nativeDown.status === 200),
        target: S3_TRANSFER,
      },
      cpuRow(`AWS SDK v3 ${label} upload vs native`, spent(cpuBefore, cpuBetween), nativeUpCpu),
      cpuRow(`AWS SDK v3 ${label} download vs native`, spent(cpuBetween, cpuAfter), nativeDownCpu),
    ];
  } finally {
    client.destroy();
  }
}
