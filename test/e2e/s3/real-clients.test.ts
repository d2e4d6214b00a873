/**
 * Real S3 clients, unmodified, against the S3 door (SPEC §13): the AWS CLI, rclone and boto3 —
 * single and multipart uploads, Range downloads, listings with delimiters and continuation,
 * presigned URLs, write-once refusals as AccessDenied, cross-product refusals. Each client is the
 * Debian package's; missing, its tests are skipped with the reason (and fail under CI=true).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, systemClient, type S3Principal } from '../../helpers/s3-door.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const aws = systemClient('aws');
const rclone = systemClient('rclone');
const python = systemClient('boto3');
const MiB = 1024 * 1024;

/** Runs a client without blocking the event loop: the server answering it is in this process. */
function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      timeout: 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (piece: Buffer) => (stdout += piece.toString()));
    child.stderr.on('data', (piece: Buffer) => (stderr += piece.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('real S3 clients', () => {
  let server: InProcessTestServer;
  let avatar: S3Principal;
  let work: string;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    avatar = await s3Principal(server, 'product', 'ai_avatar');
    work = await mkdtemp(join(tmpdir(), 'bucket-s3-clients-'));
  });
  afterAll(async () => {
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const native = (path: string) => client(server.url, avatar.key.key)('GET', path);

  describe.skipIf(!aws)(`the AWS CLI${aws ? '' : ' (skipped: /usr/bin/aws is missing)'}`, () => {
    let env: Record<string, string>;
    const cli = (...args: string[]) =>
      run(aws ?? '', [...args, '--endpoint-url', server.s3Url ?? ''], env);

    beforeAll(async () => {
      const home = join(work, 'aws-home');
      await mkdir(join(home, '.aws'), { recursive: true });
      await writeFile(join(home, '.aws', 'config'), '[default]\ns3 =\n  addressing_style = path\n');
      env = {
        HOME: home,
        AWS_ACCESS_KEY_ID: avatar.credential.accessKeyId,
        AWS_SECRET_ACCESS_KEY: avatar.credential.secretAccessKey,
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_PAGER: '',
      };
    });

    it('copies up (multipart) and down with `aws s3 cp`, and reads a Range', async () => {
      const data = randomBytes(20 * MiB);
      await writeFile(join(work, 'cli.ckpt'), data);
      const up = await cli(
        's3',
        'cp',
        join(work, 'cli.ckpt'),
        's3://ai_avatar/model_checkpoint/cli/v1.ckpt',
      );
      expect(up.status, up.stderr).toBe(0);
      const stored = await native('/v1/artifacts/ai_avatar/model_checkpoint/cli/v1.ckpt');
      expect(stored.headers.get('x-bucket-sha256')).toBe(sha256(data));
      const down = await cli(
        's3',
        'cp',
        's3://ai_avatar/model_checkpoint/cli/v1.ckpt',
        join(work, 'cli.back'),
      );
      expect(down.status, down.stderr).toBe(0);
      expect((await readFile(join(work, 'cli.back'))).equals(data)).toBe(true);
      const range = await cli(
        's3api',
        'get-object',
        '--bucket',
        'ai_avatar',
        '--key',
        'model_checkpoint/cli/v1.ckpt',
        '--range',
        'bytes=100-199',
        join(work, 'cli.range'),
      );
      expect(range.status, range.stderr).toBe(0);
      expect((await readFile(join(work, 'cli.range'))).equals(data.subarray(100, 200))).toBe(true);
    });

    it('lists with `aws s3 ls`, presigns, and is refused an overwrite and another product', async () => {
      const listed = await cli('s3', 'ls', 's3://ai_avatar/model_checkpoint/');
      expect(listed.status, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(/PRE cli\//);
      const url = await cli(
        's3',
        'presign',
        's3://ai_avatar/model_checkpoint/cli/v1.ckpt',
        '--expires-in',
        '300',
      );
      expect(url.status, url.stderr).toBe(0);
      const fetched = await fetch(url.stdout.trim(), { headers: { range: 'bytes=0-9' } });
      expect(fetched.status).toBe(206);
      await writeFile(join(work, 'small.ckpt'), 'small');
      const overwrite = await cli(
        's3',
        'cp',
        join(work, 'small.ckpt'),
        's3://ai_avatar/model_checkpoint/cli/v1.ckpt',
      );
      expect(overwrite.status).not.toBe(0);
      expect(overwrite.stderr).toMatch(/AccessDenied/);
      const other = await cli('s3', 'ls', 's3://gurukul/');
      expect(other.status).not.toBe(0);
      expect(other.stderr).toMatch(/AccessDenied/);
    });
  });

  describe.skipIf(!rclone)(
    `rclone${rclone ? '' : ' (skipped: /usr/bin/rclone is missing)'}`,
    () => {
      const env = () => ({
        HOME: work,
        RCLONE_CONFIG_BKT_TYPE: 's3',
        RCLONE_CONFIG_BKT_PROVIDER: 'Other',
        RCLONE_CONFIG_BKT_ACCESS_KEY_ID: avatar.credential.accessKeyId,
        RCLONE_CONFIG_BKT_SECRET_ACCESS_KEY: avatar.credential.secretAccessKey,
        RCLONE_CONFIG_BKT_ENDPOINT: server.s3Url ?? '',
        RCLONE_CONFIG_BKT_REGION: 'us-east-1',
        RCLONE_CONFIG_BKT_FORCE_PATH_STYLE: 'true',
      });

      it('copies a folder up (one file multipart) and down with `rclone copy`', async () => {
        const source = join(work, 'rc-src');
        await mkdir(join(source, 'sub'), { recursive: true });
        const big = randomBytes(12 * MiB);
        await writeFile(join(source, 'big.ckpt'), big);
        await writeFile(join(source, 'sub', 'small.ckpt'), 'small rclone file');
        const up = await run(
          rclone ?? '',
          [
            'copy',
            source,
            'bkt:ai_avatar/model_checkpoint/rc',
            '--s3-upload-cutoff',
            '5M',
            '--s3-chunk-size',
            '5M',
          ],
          env(),
        );
        expect(up.status, up.stderr).toBe(0);
        const stored = await native('/v1/artifacts/ai_avatar/model_checkpoint/rc/big.ckpt');
        expect(stored.headers.get('x-bucket-sha256')).toBe(sha256(big));
        const listed = await run(
          rclone ?? '',
          ['lsf', '-R', 'bkt:ai_avatar/model_checkpoint/rc'],
          env(),
        );
        expect(listed.stdout.split('\n').filter(Boolean).sort()).toEqual([
          'big.ckpt',
          'sub/',
          'sub/small.ckpt',
        ]);
        const target = join(work, 'rc-dst');
        const down = await run(
          rclone ?? '',
          ['copy', 'bkt:ai_avatar/model_checkpoint/rc', target],
          env(),
        );
        expect(down.status, down.stderr).toBe(0);
        expect((await readFile(join(target, 'big.ckpt'))).equals(big)).toBe(true);
        expect(await readFile(join(target, 'sub', 'small.ckpt'), 'utf8')).toBe('small rclone file');
        const check = await run(
          rclone ?? '',
          ['check', source, 'bkt:ai_avatar/model_checkpoint/rc'],
          env(),
        );
        expect(check.status, check.stderr).toBe(0);
      });
    },
  );

  describe.skipIf(!python)(
    `boto3${python ? '' : ' (skipped: /usr/bin/python3 with boto3 is missing)'}`,
    () => {
      it('uploads, downloads, pages, presigns and is refused as S3 refuses', async () => {
        const script = join(import.meta.dirname, 'boto3-client.py');
        const result = await run(python ?? '', [script, server.s3Url ?? '', work], {
          S3_ACCESS_KEY_ID: avatar.credential.accessKeyId,
          S3_SECRET_ACCESS_KEY: avatar.credential.secretAccessKey,
        });
        expect(result.status, result.stderr).toBe(0);
        const report = JSON.parse(result.stdout);
        expect(report.range).toBe('0123456789');
        expect(report.multipartEtag).toMatch(/^"[0-9a-f]{32}-3"$/);
        expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(report.roundTrip).toBe(true);
        expect(report.pages).toBeGreaterThan(1);
        expect(report.keys).toEqual([
          'model_checkpoint/py/big.bin',
          'model_checkpoint/py/small.bin',
        ]);
        expect(report.prefixes).toEqual(['model_checkpoint/py/list/']);
        expect(report.presigned).toBe('0123456789');
        expect(report.overwrite).toBe('AccessDenied');
        expect(report.overwriteMessage).toMatch(/T3/);
        expect(report.crossProduct).toBe('AccessDenied');
      });
    },
  );
});
