/**
 * An S3-compatible server for the tests: `s3rver` on loopback (port 0) over a temporary directory,
 * with one bucket of its own, in a child process of its own — so that its memory never counts as
 * ours, and it outlives the server processes the multi-node tests kill. Its credentials are fixed;
 * they are put into process.env for the SDK's default provider chain, and exported for child
 * processes.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The credentials s3rver accepts, and the SDK's quiet switch: the environment of S3 clients. */
export const S3RVER_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  // The documented switch for the SDK's NodeVersionSupportWarning on Node 20 (aws-sdk-js-v3#7983).
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
} as const;

for (const [name, value] of Object.entries(S3RVER_ENV)) process.env[name] ??= value;

const S3RVER_MAIN = createRequire(import.meta.url).resolve('s3rver');

/** Runs in the child: starts s3rver and prints its port, then serves until killed. */
const SERVER_SCRIPT = `
const path = require('node:path');
const fs = require('node:fs/promises');
// s3rver's file store races itself: deleting the last object under a prefix removes the
// directory while another upload opens a file in it, whose stream 'error' has no listener (the
// server dies, or the request hangs). Deleting keeps the directories here, which closes the race.
const FilesystemStore = require(path.join(path.dirname(process.argv[1]), 'stores', 'filesystem.js'));
FilesystemStore.prototype.deleteObject = async function (bucket, key) {
  await Promise.all(
    ['object', 'object.md5', 'metadata.json'].map((kind) =>
      fs.unlink(this.getResourcePath(bucket, key, kind)).catch((error) => {
        if (error.code !== 'ENOENT') throw error;
      }),
    ),
  );
};
process.on('uncaughtException', (error) => console.error('s3rver (kept running):', error.message));
const S3rver = require(process.argv[1]);
const [, , directory, bucket] = process.argv;
new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] })
  .run()
  .then(({ port }) => console.log(JSON.stringify({ port })), (error) => { console.error(error); process.exit(1); });
`;

export interface TestS3 {
  /** The pinned blob URL (SPEC §12) of this server's bucket. */
  readonly url: string;
  readonly bucket: string;
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startS3(): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'bucket-s3rver-'));
  // 3–63 lowercase characters (S3 bucket naming rules).
  const bucket = `bucket-test-${randomBytes(6).toString('hex')}`;
  const child = spawn(process.execPath, ['-e', SERVER_SCRIPT, S3RVER_MAIN, directory, bucket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`s3rver exited with code ${String(code)} before listening`);
  });
  const lines = createInterface({ input: child.stdout });
  const listening = once(lines, 'line').then(
    ([line]) => (JSON.parse(line as string) as { port: number }).port,
  );
  let port: number;
  try {
    port = await Promise.race([listening, exited]);
  } catch (error) {
    child.kill();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  exited.catch(() => undefined);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    url: `s3://${bucket}?endpoint=${endpoint}&region=us-east-1&forcePathStyle=true`,
    bucket,
    endpoint,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = once(child, 'exit');
        child.kill();
        await gone;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
