/**
 * `bucket exceptions request|approve|reject|list` (SPEC §9): a time-boxed policy exception,
 * requested by a product key (or the owner) and decided by the owner; the Bucket reverts it at
 * expiry by itself.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { PolicyException } from '../../domain/exceptions.js';
import { CliError } from '../errors.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import { connect, examples, remoteOptions, type RemoteOptions } from '../remote.js';

const PATH = '/v1/governance/exceptions';
const JSON_BODY = { 'content-type': 'application/json' };

interface RequestOptions extends RemoteOptions {
  readonly title: string;
  readonly justification: string;
  readonly patch: string;
  readonly minutes: string;
}

function printException(exception: PolicyException): void {
  printLine(`exception ${exception.id}: ${exception.status} (${exception.title})`);
  if (exception.policyVersion !== null) printLine(`policy version: ${exception.policyVersion}`);
  if (exception.expiresAt) printLine(`expires at: ${exception.expiresAt}`);
}

async function readPatch(file: string): Promise<unknown> {
  const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`${file} is not JSON: give an RFC 6902 patch (a JSON array)`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function requestException(options: RequestOptions): Promise<void> {
  const durationMinutes = Number(options.minutes);
  const body = {
    title: options.title,
    justification: options.justification,
    patch: await readPatch(options.patch),
    durationMinutes,
  };
  const answer = await connect(options).json<PolicyException>('POST', PATH, {
    headers: JSON_BODY,
    body: JSON.stringify(body),
  });
  if (options.json) return printJson(answer);
  printException(answer);
  note(`the owner decides: bucket exceptions approve ${answer.id} --reason "…"`);
}

interface DecideOptions extends RemoteOptions {
  readonly reason: string;
}

const decide = (verb: 'approve' | 'reject') => async (id: string, options: DecideOptions) => {
  const answer = await connect(options).json<PolicyException>(
    'POST',
    `${PATH}/${encodeURIComponent(id)}/${verb}`,
    { headers: JSON_BODY, body: JSON.stringify({ reason: options.reason }) },
  );
  if (options.json) return printJson(answer);
  printException(answer);
};

async function listExceptions(options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<{ exceptions: PolicyException[] }>('GET', PATH);
  if (options.json) return printJson(answer);
  if (answer.exceptions.length === 0) return printLine('no exceptions');
  const rows = answer.exceptions.map((e) => [
    e.id,
    e.status,
    e.product ?? '-',
    e.title,
    e.expiresAt ?? '-',
  ]);
  printLine(formatTable([['ID', 'STATUS', 'PRODUCT', 'TITLE', 'EXPIRES'], ...rows]));
}

export function registerExceptions(program: Command): void {
  const exceptions = program
    .command('exceptions')
    .description(
      'Time-boxed policy exceptions: a product key (or the owner) requests one, the owner ' +
        'approves or rejects it, the Bucket reverts it at expiry.',
    );
  const request = exceptions
    .command('request')
    .description(
      'Request an exception: an RFC 6902 patch of the policy document for 1 … 10080 minutes. ' +
        'A patch that breaks a floor is refused at once.',
    )
    .requiredOption('--title <text>', 'a short title')
    .requiredOption('--justification <text>', 'why it is needed')
    .requiredOption('--patch <file>', 'a JSON file holding the patch (an array), or - for stdin')
    .requiredOption('--minutes <n>', 'how long it lasts once approved (1 … 10080)');
  remoteOptions(request)
    .addHelpText(
      'after',
      examples(
        'echo \'[{"op":"replace","path":"/products/ai_avatar/quotaBytes","value":500000000000}]\' \\\n' +
          '  | bucket exceptions request --title launch --justification "campaign" --patch - --minutes 120',
      ),
    )
    .action(requestException);
  for (const verb of ['approve', 'reject'] as const) {
    const command = exceptions
      .command(`${verb} <id>`)
      .description(
        verb === 'approve'
          ? 'Approve (owner): the patch becomes a policy version until it expires.'
          : 'Reject (owner): nothing changes.',
      )
      .requiredOption('--reason <text>', 'why (recorded in the audit log)');
    remoteOptions(command)
      .addHelpText('after', examples(`bucket exceptions ${verb} 0b1c… --reason "checked"`))
      .action(decide(verb));
  }
  remoteOptions(
    exceptions
      .command('list')
      .description('List exceptions (owner, executor, auditor; a product key its own).'),
  )
    .addHelpText('after', examples('bucket exceptions list', 'bucket exceptions list --json'))
    .action(listExceptions);
}
