/**
 * `bucket holds place|list|lift`: legal holds (SPEC §8) on a product, a class, a name prefix or a
 * data subject, with a case reference; placed and lifted by the owner, read by owner, executor and
 * auditor keys.
 */
import type { Command } from 'commander';
import type { HoldScope, LegalHold } from '../../domain/holds.js';
import { UsageError } from '../errors.js';
import { formatTable, printJson, printLine } from '../output.js';
import { connect, examples, remoteOptions, type RemoteOptions } from '../remote.js';

const JSON_BODY = { 'content-type': 'application/json' };

interface PlaceOptions extends RemoteOptions {
  readonly product?: string;
  readonly class?: string;
  readonly prefix?: string;
  readonly subject?: string;
  readonly case: string;
  readonly reason: string;
}

function scopeOf(options: PlaceOptions): HoldScope {
  if (options.subject !== undefined) {
    if (options.product ?? options.class ?? options.prefix) {
      throw new UsageError('--subject holds a data subject: give it alone, without --product');
    }
    return { subject: options.subject };
  }
  if (options.product === undefined) {
    throw new UsageError('give --product (with --class and --prefix to narrow it) or --subject');
  }
  return {
    product: options.product,
    ...(options.class !== undefined ? { class: options.class } : {}),
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
  };
}

export function describeScope(scope: HoldScope): string {
  if ('subject' in scope) return `subject ${scope.subject}`;
  return [scope.product, scope.class ?? '*', scope.prefix ? `${scope.prefix}*` : '*'].join('/');
}

async function place(options: PlaceOptions): Promise<void> {
  const hold = await connect(options).json<LegalHold>('POST', '/v1/governance/holds', {
    headers: JSON_BODY,
    body: JSON.stringify({
      scope: scopeOf(options),
      caseRef: options.case,
      reason: options.reason,
    }),
  });
  if (options.json) return printJson(hold);
  printLine(`placed legal hold ${hold.id} on ${describeScope(hold.scope)} (case ${hold.caseRef})`);
}

async function list(options: RemoteOptions & { readonly active?: boolean }): Promise<void> {
  const answer = await connect(options).json<{ holds: LegalHold[] }>(
    'GET',
    '/v1/governance/holds',
    { query: options.active ? { active: 'true' } : {} },
  );
  if (options.json) return printJson(answer);
  if (answer.holds.length === 0) return printLine('no legal holds');
  const rows = answer.holds.map((hold) => [
    hold.id,
    describeScope(hold.scope),
    hold.caseRef,
    hold.placedAt,
    hold.liftedAt ?? 'active',
    hold.reason,
  ]);
  printLine(formatTable([['ID', 'SCOPE', 'CASE', 'PLACED', 'LIFTED', 'REASON'], ...rows]));
}

async function lift(id: string, options: RemoteOptions & { readonly reason: string }) {
  const hold = await connect(options).json<LegalHold>(
    'DELETE',
    `/v1/governance/holds/${encodeURIComponent(id)}`,
    { query: { reason: options.reason } },
  );
  if (options.json) return printJson(hold);
  printLine(`lifted legal hold ${hold.id} (case ${hold.caseRef}) at ${hold.liftedAt ?? ''}`);
}

export function registerHolds(program: Command): void {
  const holds = program
    .command('holds')
    .description(
      'Legal holds (SPEC §8): while one covers a version it cannot be tombstoned or purged. ' +
        'The owner places and lifts them; owner, executor and auditor keys list them.',
    );

  const placeCommand = holds
    .command('place')
    .description(
      'Place a legal hold on a product (narrowed by class and name prefix) or a subject.',
    )
    .option('--product <product>', 'the product the hold covers')
    .option('--class <class>', 'only this class of the product')
    .option('--prefix <prefix>', 'only names starting with this prefix')
    .option('--subject <id>', 'every version of this data subject, in any product')
    .requiredOption('--case <ref>', 'the case reference (recorded in the audit log)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)');
  remoteOptions(placeCommand)
    .addHelpText(
      'after',
      examples(
        'bucket holds place --product gurukul --class user_progress --case ACME-2027-14 --reason "litigation hold"',
        'bucket holds place --subject user:4711 --case DPA-88 --reason "regulator inquiry"',
      ),
    )
    .action(place);

  const listCommand = holds
    .command('list')
    .description(
      'List legal holds, lifted ones included (the history); --active for those in force.',
    )
    .option('--active', 'only holds in force');
  remoteOptions(listCommand)
    .addHelpText('after', examples('bucket holds list --active'))
    .action(list);

  const liftCommand = holds
    .command('lift')
    .description('Lift a legal hold; it stays in the history with the time it was lifted.')
    .argument('<id>', 'the hold id (from `bucket holds list`)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)');
  remoteOptions(liftCommand)
    .addHelpText('after', examples('bucket holds lift hold_0f3c… --reason "case settled"'))
    .action(lift);
}
