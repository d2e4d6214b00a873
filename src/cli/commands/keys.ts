/**
 * `bucket keys create|list|revoke|reinstate`: the owner's key management (SPEC §1), and lifting
 * the suspension escalation put on a key (SPEC §5).
 */
import { Option, type Command } from 'commander';
import type { Static } from 'typebox';
import { PRINCIPAL_KINDS } from '../../domain/principal.js';
import type { KeyView as KeyViewSchema } from '../../http/schemas.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import { connect, examples, isoTime, remoteOptions, type RemoteOptions } from '../remote.js';
import { registerS3Credentials } from './s3-credentials.js';

interface CreatedKey {
  readonly id: string;
  readonly key: string;
  readonly kind: string;
  readonly product: string | null;
  readonly name: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
}

type KeyView = Static<typeof KeyViewSchema>;

interface CreateOptions extends RemoteOptions {
  readonly kind: string;
  readonly product?: string;
  readonly integration?: string;
  readonly name: string;
  readonly expires?: string;
}

async function create(options: CreateOptions): Promise<void> {
  const client = connect(options);
  const created = await client.json<CreatedKey>('POST', '/v1/keys', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      kind: options.kind,
      name: options.name,
      ...(options.product !== undefined ? { product: options.product } : {}),
      ...(options.integration !== undefined ? { integrationId: options.integration } : {}),
      ...(options.expires !== undefined ? { expiresAt: options.expires } : {}),
    }),
  });
  if (options.json) return printJson(created);
  const scope = created.product ? ` for ${created.product}` : '';
  printLine(`created ${created.kind} key ${created.id}${scope} ("${created.name}")`);
  printLine(`expires: ${created.expiresAt ?? 'never'}`);
  printLine('');
  printLine(`    ${created.key}`);
  printLine('');
  printLine('This secret is shown once and will not be shown again: store it now');
  printLine('(for example as BUCKET_KEY in your secret store). Only its hash is kept.');
}

async function list(options: RemoteOptions): Promise<void> {
  const client = connect(options);
  const answer = await client.json<{ keys: KeyView[] }>('GET', '/v1/keys');
  if (options.json) return printJson(answer);
  const rows = answer.keys.map((key) => [
    key.id,
    key.kind,
    key.product ?? '-',
    key.status,
    key.createdAt,
    key.expiresAt ?? '-',
    key.name,
  ]);
  printLine(
    formatTable([['ID', 'KIND', 'PRODUCT', 'STATUS', 'CREATED', 'EXPIRES', 'NAME'], ...rows]),
  );
}

async function revoke(id: string, options: RemoteOptions): Promise<void> {
  const client = connect(options);
  const revoked = await client.json<KeyView>('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
  if (options.json) return printJson(revoked);
  printLine(`revoked key ${revoked.id} ("${revoked.name}") at ${revoked.revokedAt ?? 'now'}`);
}

async function reinstate(id: string, options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<{ keyId: string; reinstated: boolean }>(
    'POST',
    `/v1/keys/${encodeURIComponent(id)}/reinstate`,
  );
  if (options.json) return printJson(answer);
  if (!answer.reinstated) return printLine(`key ${answer.keyId} was not suspended: nothing to do`);
  printLine(`reinstated key ${answer.keyId}`);
  // SPEC §5 counts detections within the window, and reinstating does not erase them.
  note(
    'its earlier CRITICAL detections still count within the escalation window (an hour by ' +
      'default): one more request with one suspends it again',
  );
}

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description(
      'Manage API keys (owner key required): create, list, revoke, reinstate, s3-credentials.',
    );

  const createCommand = keys
    .command('create')
    .description('Create a key. Its secret is printed once and never shown again.')
    .addOption(
      new Option('--kind <kind>', 'what the key may do')
        .choices(PRINCIPAL_KINDS)
        .makeOptionMandatory(),
    )
    .option('--product <product>', 'the product of a product or ai_agent key')
    .option('--integration <id>', 'the approved integration a product or ai_agent key acts through')
    .requiredOption('--name <name>', 'a name saying who or what uses the key')
    .option('--expires <iso>', 'expiry time (ISO-8601); never by default', isoTime);
  remoteOptions(createCommand)
    .addHelpText(
      'after',
      examples(
        'bucket keys create --kind product --product ai_avatar --integration avatar-trainer --name "avatar uploader"',
        'bucket keys create --kind auditor --name "audit team" --expires 2027-01-31T00:00:00Z',
      ),
    )
    .action(create);

  const listCommand = keys
    .command('list')
    .description('List keys with their status (secrets are never shown).');
  remoteOptions(listCommand)
    .addHelpText('after', examples('bucket keys list', 'bucket keys list --json'))
    .action(list);

  const revokeCommand = keys
    .command('revoke')
    .description('Revoke a key; it stops working at once.')
    .argument('<id>', 'the key id (from `bucket keys list`)');
  remoteOptions(revokeCommand)
    .addHelpText('after', examples('bucket keys revoke key_0123456789abcdef'))
    .action(revoke);

  const reinstateCommand = keys
    .command('reinstate')
    .description(
      'Lift the suspension of a key that made repeated requests with CRITICAL threats ' +
        '(see `bucket threats`); a key that is not suspended is left as it is (exit 0).',
    )
    .argument('<id>', 'the key id (from `bucket threats` or `bucket keys list`)');
  remoteOptions(reinstateCommand)
    .addHelpText('after', examples('bucket threats', 'bucket keys reinstate key_0123456789abcdef'))
    .action(reinstate);
  registerS3Credentials(keys);
}
