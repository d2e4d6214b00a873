/**
 * `bucket webhooks create|list|rm|deliveries`: the owner's webhooks (SPEC §10) — subscribe a URL
 * to events (the signing secret printed once), list them with their delivery state, delete one,
 * and read a webhook's delivery log.
 */
import type { Command } from 'commander';
import type { DeliveryAttempt } from '../../domain/webhooks.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import {
  connect,
  examples,
  nonNegativeInteger,
  positiveInteger,
  remoteOptions,
  type RemoteOptions,
} from '../remote.js';

interface WebhookView {
  readonly id: string;
  readonly url: string;
  readonly types: string[];
  readonly product: string | null;
  readonly status: string;
  readonly cursor: number;
  readonly failures: number;
  readonly nextAttemptAt: string;
  readonly disabledAt: string | null;
}

/** A row of the delivery log as the API answers it. */
type Delivery = Omit<DeliveryAttempt, 'webhookId'>;

interface CreateOptions extends RemoteOptions {
  readonly type: string[];
  readonly product?: string;
}

interface DeliveriesOptions extends RemoteOptions {
  readonly after: number;
  readonly limit: number;
}

function path(id: string, suffix = ''): string {
  return `/v1/webhooks/${encodeURIComponent(id)}${suffix}`;
}

async function create(url: string, options: CreateOptions): Promise<void> {
  const created = await connect(options).json<WebhookView & { secret: string }>(
    'POST',
    '/v1/webhooks',
    {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        url,
        types: options.type,
        ...(options.product !== undefined ? { product: options.product } : {}),
      }),
    },
  );
  if (options.json) return printJson(created);
  const scope = created.product ? ` of ${created.product}` : '';
  printLine(`created webhook ${created.id}: ${created.types.join(', ')}${scope} → ${created.url}`);
  printLine('');
  printLine(`    ${created.secret}`);
  printLine('');
  printLine('This signing secret is shown once: give it to the receiver now. Deliveries are');
  printLine('signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).');
}

async function list(options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<{ webhooks: WebhookView[] }>('GET', '/v1/webhooks');
  if (options.json) return printJson(answer);
  const rows = answer.webhooks.map((webhook) => [
    webhook.id,
    webhook.status,
    webhook.types.join(','),
    webhook.product ?? '-',
    String(webhook.cursor),
    webhook.failures > 0 ? `${webhook.failures} (next ${webhook.nextAttemptAt})` : '0',
    webhook.url,
  ]);
  printLine(
    formatTable([['ID', 'STATUS', 'TYPES', 'PRODUCT', 'CURSOR', 'FAILURES', 'URL'], ...rows]),
  );
}

async function remove(id: string, options: RemoteOptions): Promise<void> {
  const deleted = await connect(options).json<WebhookView>('DELETE', path(id));
  if (options.json) return printJson(deleted);
  printLine(`deleted webhook ${deleted.id} (${deleted.url}) and its delivery log`);
}

async function deliveries(id: string, options: DeliveriesOptions): Promise<void> {
  const answer = await connect(options).json<{
    deliveries: Delivery[];
    nextCursor: number | null;
  }>('GET', path(id, '/deliveries'), { query: { after: options.after, limit: options.limit } });
  if (options.json) return printJson(answer);
  const rows = answer.deliveries.map((attempt) => [
    String(attempt.id),
    String(attempt.eventId),
    String(attempt.attempt),
    attempt.at,
    attempt.status === null ? '-' : String(attempt.status),
    `${attempt.durationMs} ms`,
    attempt.error ?? '',
  ]);
  printLine(formatTable([['ID', 'EVENT', 'ATTEMPT', 'AT', 'STATUS', 'TOOK', 'ERROR'], ...rows]));
  if (answer.nextCursor !== null) {
    note(`more attempts: bucket webhooks deliveries ${id} --after ${answer.nextCursor}`);
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerWebhooks(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('Manage webhooks (owner key required): create, list, rm, deliveries.');

  const createCommand = webhooks
    .command('create')
    .description(
      'Subscribe a URL to events (POSTed as CloudEvents, signed per Standard Webhooks). The ' +
        'signing secret is printed once. Loopback, private and link-local targets need the ' +
        "policy's egress.allow.",
    )
    .argument('<url>', 'the receiver, http:// or https://')
    .requiredOption(
      '--type <prefix>',
      'an event type prefix to deliver (repeatable), e.g. bucket.artifact.',
      collect,
    )
    .option('--product <product>', "only this product's events");
  remoteOptions(createCommand)
    .addHelpText(
      'after',
      examples(
        'bucket webhooks create https://hooks.example.com/bucket --type bucket.artifact.',
        'bucket webhooks create https://ci.example.com/in --type bucket.key. --type bucket.policy.',
      ),
    )
    .action(create);

  const listCommand = webhooks
    .command('list')
    .description('List webhooks with their delivery state (secrets are never shown).');
  remoteOptions(listCommand).addHelpText('after', examples('bucket webhooks list')).action(list);

  const rmCommand = webhooks
    .command('rm')
    .description('Delete a webhook and its delivery log; deliveries stop at once.')
    .argument('<id>', 'the webhook id (from `bucket webhooks list`)');
  remoteOptions(rmCommand)
    .addHelpText('after', examples('bucket webhooks rm wh_0123456789abcdef'))
    .action(remove);

  const deliveriesCommand = webhooks
    .command('deliveries')
    .description("A webhook's delivery log, oldest first: one row per attempt.")
    .argument('<id>', 'the webhook id')
    .option('--after <id>', 'attempts after this attempt id', nonNegativeInteger, 0)
    .option('--limit <n>', 'attempts to show (at most 1000)', positiveInteger, 100);
  remoteOptions(deliveriesCommand)
    .addHelpText('after', examples('bucket webhooks deliveries wh_0123456789abcdef'))
    .action(deliveries);
}
