/** S3 clients of a test server's S3 door (SPEC §13): a key of a product, its credential, a client. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { client, createKey, type InProcessTestServer } from './server.js';

export interface S3Credential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface S3Principal {
  readonly key: { key: string; id: string };
  readonly credential: S3Credential;
  readonly s3: S3Client;
}

/** An S3 credential of the key `keyId`, created by the owner. */
export async function s3CredentialOf(
  server: InProcessTestServer,
  keyId: string,
): Promise<S3Credential> {
  const answer = await client(server.url, server.ownerKey)(
    'POST',
    `/v1/keys/${keyId}/s3-credentials`,
  );
  if (answer.status !== 201) throw new Error(`credential creation failed: ${answer.status}`);
  return { accessKeyId: answer.json.accessKeyId, secretAccessKey: answer.json.secretAccessKey };
}

export function s3Client(server: InProcessTestServer, credential: S3Credential): S3Client {
  if (!server.s3Url) throw new Error('start the server with BUCKET_S3_PORT');
  return new S3Client({
    endpoint: server.s3Url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: credential,
    maxAttempts: 1,
  });
}

/** A key of `kind` (of `product`), an S3 credential of it and a client signing with it. */
export async function s3Principal(
  server: InProcessTestServer,
  kind: string,
  product?: string,
): Promise<S3Principal> {
  const key =
    kind === 'owner'
      ? { key: server.ownerKey, id: 'key_owner' }
      : await createKey(server, { kind, ...(product ? { product } : {}) });
  const credential = await s3CredentialOf(server, key.id);
  return { key, credential, s3: s3Client(server, credential) };
}

/** A server with its S3 door on a free port. */
export const S3_ENV = { BUCKET_S3_PORT: '0' } as const;

/**
 * A real S3 client of the system (Debian's awscli, rclone, python3-boto3): its command, or null
 * when it is missing — except under CI=true, where a missing client fails the suite (`.ci/run`
 * installs them).
 */
export function systemClient(name: 'aws' | 'rclone' | 'boto3'): string | null {
  const command = name === 'boto3' ? '/usr/bin/python3' : `/usr/bin/${name}`;
  let ok = existsSync(command);
  if (ok && name === 'boto3') {
    ok = spawnSync(command, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;
  }
  if (ok) return command;
  if (process.env['CI'] === 'true') {
    throw new Error(
      `${name} is missing (CI=true: not skipping); apt-get install awscli rclone python3-boto3`,
    );
  }
  return null;
}
