/**
 * `bucket integrations propose|list|revoke`: the integrations product keys act through
 * (SPEC §4.2). A proposal is judged by the gate: approved (and stored) or rejected with every
 * reason and threat.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { errorAnswer } from '../client.js';
import { CliError, UsageError } from '../errors.js';
import { formatTable, printJson, printLine } from '../output.js';
import { connect, examples, remoteOptions, type RemoteOptions } from '../remote.js';

interface Verdict {
  readonly decision: 'approved' | 'rejected';
  readonly integrationId: string;
  readonly checksPerformed: string[];
  readonly threatsFound: { id: string; name: string; severity: string; evidence: string }[];
  readonly reasons: { rule: string; message: string }[];
}

interface IntegrationView {
  readonly id: string;
  readonly integrationType: string;
  readonly productName: string;
  readonly artifactClasses: string[];
  readonly status: string;
  readonly approvedAt: string;
  readonly revokedAt: string | null;
}

interface ProposeOptions extends RemoteOptions {
  readonly id: string;
  readonly type: string;
  readonly product: string;
  readonly classes: string;
  readonly contentFilter?: string;
  readonly nsfwPolicy?: string;
  readonly retentionPolicy?: string;
  readonly deletionStrategy?: string;
  readonly schemaFile?: string;
}

async function dataSchemaOf(options: ProposeOptions): Promise<Record<string, unknown>> {
  let schema: Record<string, unknown> = {};
  if (options.schemaFile !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(options.schemaFile, 'utf8'));
    } catch (error) {
      throw new UsageError(
        `cannot read the data schema ${options.schemaFile}: ${(error as Error).message}`,
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError(`${options.schemaFile} must hold a JSON object`);
    }
    schema = parsed as Record<string, unknown>;
  }
  const declared: [string, string | undefined][] = [
    ['content_filter', options.contentFilter],
    ['nsfw_policy', options.nsfwPolicy],
    ['retention_policy', options.retentionPolicy],
    ['deletion_strategy', options.deletionStrategy],
  ];
  for (const [field, value] of declared) if (value !== undefined) schema[field] = value;
  return schema;
}

function printVerdict(verdict: Verdict): void {
  printLine(`${verdict.decision} integration ${verdict.integrationId}`);
  printLine(`checks: ${verdict.checksPerformed.join(', ')}`);
  for (const reason of verdict.reasons) printLine(`reason: ${reason.rule}: ${reason.message}`);
  for (const found of verdict.threatsFound) {
    printLine(`threat: ${found.id} ${found.name} (${found.severity}): ${found.evidence}`);
  }
}

async function propose(options: ProposeOptions): Promise<void> {
  const body = JSON.stringify({
    integrationId: options.id,
    integrationType: options.type,
    productName: options.product,
    artifactClasses: options.classes
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    dataSchema: await dataSchemaOf(options),
  });
  let verdict: Verdict;
  try {
    verdict = await connect(options).json<Verdict>(
      'POST',
      '/governance/gate/validate-integration',
      {
        headers: { 'content-type': 'application/json' },
        body,
      },
    );
  } catch (error) {
    // A rejection is an answer of its own (SPEC §4.2), not the error envelope.
    const rejected = errorAnswer<Verdict>(error, 403, (answer) => answer.decision === 'rejected');
    if (!rejected) throw error;
    if (options.json) printJson(rejected);
    else printVerdict(rejected);
    throw new CliError(`integration ${rejected.integrationId} was rejected`);
  }
  if (options.json) return printJson(verdict);
  printVerdict(verdict);
  printLine(
    `product keys can now act through it: bucket keys create --kind product ` +
      `--product ${options.product} --integration ${verdict.integrationId} --name …`,
  );
}

async function list(options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<{ integrations: IntegrationView[] }>(
    'GET',
    '/v1/integrations',
  );
  if (options.json) return printJson(answer);
  const rows = answer.integrations.map((integration) => [
    integration.id,
    integration.productName,
    integration.integrationType,
    integration.status,
    integration.artifactClasses.join(','),
    integration.approvedAt,
  ]);
  printLine(formatTable([['ID', 'PRODUCT', 'TYPE', 'STATUS', 'CLASSES', 'APPROVED'], ...rows]));
}

async function revoke(id: string, options: RemoteOptions & { product?: string }): Promise<void> {
  // Ids are scoped by product: --product names one when several products hold the id.
  const query = options.product ? `?product=${encodeURIComponent(options.product)}` : '';
  const answer = await connect(options).json<{
    integration: IntegrationView;
    revokedKeys: string[];
  }>('DELETE', `/v1/integrations/${encodeURIComponent(id)}${query}`);
  if (options.json) return printJson(answer);
  const { integration, revokedKeys } = answer;
  printLine(
    `revoked integration ${integration.id} and its keys at ${integration.revokedAt ?? 'now'}` +
      (revokedKeys.length > 0 ? ` (${revokedKeys.join(', ')})` : ' (it had no keys)'),
  );
}

export function registerIntegrations(program: Command): void {
  const integrations = program
    .command('integrations')
    .description('Integrations that product keys act through: propose, list, revoke.');

  const proposeCommand = integrations
    .command('propose')
    .description(
      'Propose an integration; the gate approves and stores it, or rejects it with every ' +
        'reason and threat (exit 1).',
    )
    .requiredOption('--id <id>', 'the integration id (letters, digits, . _ : -)')
    .requiredOption('--type <type>', 'api_client, sdk, batch_import, agent or service')
    .requiredOption('--product <product>', 'the product it serves')
    .requiredOption('--classes <list>', 'comma-separated artifact classes it will use')
    .option('--content-filter <text>', 'the content policy (or --nsfw-policy)')
    .option('--nsfw-policy <text>', 'the content policy (or --content-filter)')
    .option('--retention-policy <text>', 'how long data is kept (or --deletion-strategy)')
    .option('--deletion-strategy <text>', 'how data is deleted (or --retention-policy)')
    .option('--schema-file <file>', 'a JSON file with the full data schema');
  remoteOptions(proposeCommand)
    .addHelpText(
      'after',
      examples(
        'bucket integrations propose --id avatar-trainer --type sdk --product ai_avatar \\\n' +
          '      --classes model_checkpoint,avatar_config --content-filter "no adult content" \\\n' +
          '      --retention-policy "per class"',
      ),
    )
    .action(propose);

  const listCommand = integrations.command('list').description('List integrations.');
  remoteOptions(listCommand)
    .addHelpText('after', examples('bucket integrations list'))
    .action(list);

  const revokeCommand = integrations
    .command('revoke')
    .description('Revoke an integration; its keys stop working at once.')
    .argument('<id>', 'the integration id')
    .option('--product <product>', 'the product whose integration it is, when several hold the id');
  remoteOptions(revokeCommand)
    .addHelpText('after', examples('bucket integrations revoke avatar-trainer'))
    .action(revoke);
}
