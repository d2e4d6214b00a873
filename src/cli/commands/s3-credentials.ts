/**
 * `bucket keys s3-credentials create|list|revoke <key id>`: the owner's S3 credentials of a key
 * (SPEC §13) for the S3 front door (docs/S3.md); the secret is printed once.
 */
import type { Command } from 'commander';
import { formatTable, printJson, printLine } from '../output.js';
import { connect, examples, remoteOptions, type RemoteOptions } from '../remote.js';

interface Credential {
  readonly accessKeyId: string;
  readonly keyId: string;
  readonly createdAt: string;
  readonly revokedAt?: string | null;
  readonly secretAccessKey?: string;
}

const pathOf = (keyId: string) => `/v1/keys/${encodeURIComponent(keyId)}/s3-credentials`;

async function create(keyId: string, options: RemoteOptions): Promise<void> {
  const created = await connect(options).json<Credential>('POST', pathOf(keyId));
  if (options.json) return printJson(created);
  printLine(`created an S3 credential of key ${created.keyId}`);
  printLine('');
  printLine(`    aws_access_key_id = ${created.accessKeyId}`);
  printLine(`    aws_secret_access_key = ${created.secretAccessKey ?? ''}`);
  printLine('');
  printLine('The secret access key is shown once and will not be shown again: store it now.');
  printLine('Point S3 clients at the S3 door (BUCKET_S3_PORT), path-style, region us-east-1.');
}

async function list(keyId: string, options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<{ credentials: Credential[] }>('GET', pathOf(keyId));
  if (options.json) return printJson(answer);
  const rows = answer.credentials.map((found) => [
    found.accessKeyId,
    found.revokedAt ? 'revoked' : 'active',
    found.createdAt,
    found.revokedAt ?? '-',
  ]);
  printLine(formatTable([['ACCESS KEY ID', 'STATUS', 'CREATED', 'REVOKED'], ...rows]));
}

async function revoke(keyId: string, accessKeyId: string, options: RemoteOptions): Promise<void> {
  const path = `${pathOf(keyId)}/${encodeURIComponent(accessKeyId)}`;
  const revoked = await connect(options).json<Credential>('DELETE', path);
  if (options.json) return printJson(revoked);
  printLine(`revoked S3 credential ${revoked.accessKeyId} of key ${revoked.keyId}`);
}

export function registerS3Credentials(keys: Command): void {
  const group = keys
    .command('s3-credentials')
    .description("Manage a key's S3 credentials for the S3 front door (owner key required).");
  const createCommand = group
    .command('create')
    .description('Create an S3 credential; its secret is printed once.')
    .argument('<key-id>', 'the key it acts as (from `bucket keys list`)');
  remoteOptions(createCommand)
    .addHelpText('after', examples('bucket keys s3-credentials create key_0123456789abcdef'))
    .action(create);
  const listCommand = group
    .command('list')
    .description("List a key's S3 credentials (access key ids only).")
    .argument('<key-id>', 'the key');
  remoteOptions(listCommand)
    .addHelpText('after', examples('bucket keys s3-credentials list key_0123456789abcdef'))
    .action(list);
  const revokeCommand = group
    .command('revoke')
    .description('Revoke an S3 credential; it stops working at once.')
    .argument('<key-id>', 'the key')
    .argument('<access-key-id>', 'the credential (from `bucket keys s3-credentials list`)');
  remoteOptions(revokeCommand)
    .addHelpText(
      'after',
      examples('bucket keys s3-credentials revoke key_0123456789abcdef BKTXXXXXXXXXXXXXXXXX'),
    )
    .action(revoke);
}
