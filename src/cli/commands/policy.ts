/**
 * `bucket policy show|versions|diff|set|restore`: the one versioned policy document that holds every
 * governance rule (SPEC §2). Every key may read it and its history; only the owner replaces it.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { PolicyChange } from '../../policy/diff.js';
import type { BucketClient } from '../client.js';
import { UsageError } from '../errors.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import {
  connect,
  examples,
  positiveInteger,
  remoteOptions,
  type RemoteOptions,
} from '../remote.js';

/** `GET|PUT /v1/governance/policy`. */
interface LivePolicy {
  readonly version: number;
  readonly hash: string;
  readonly document: unknown;
}

/** The PUT answer: false `changed` when the document was already live (no version made). */
interface PolicyUpdateAnswer extends LivePolicy {
  readonly changed: boolean;
}

/** An entry of `GET /v1/governance/policy/versions`. */
interface VersionSummary {
  readonly version: number;
  readonly hash: string;
  readonly reason: string;
  readonly createdAt: string;
  /** The key id that made the change, or "system". */
  readonly createdBy: string;
}

/** `GET /v1/governance/policy/versions/{n}`. */
interface VersionDetail extends VersionSummary {
  readonly document: unknown;
  readonly previousVersion: number | null;
  readonly diff: PolicyChange[];
}

interface ShowOptions extends RemoteOptions {
  readonly version?: number;
}

interface SetOptions extends RemoteOptions {
  readonly reason: string;
}

/** A `set` prints this many changes; `bucket policy diff` prints them all. */
const SUMMARY_CHANGES = 20;

/** A list of scalars that fits in this many characters is printed on one line. */
const SHORT_LIST_CHARS = 80;

const versionPath = (n: number) => `/v1/governance/policy/versions/${n}`;

/** Text from the server on one terminal line: control characters (newlines too) become spaces. */
function oneLine(text: string): string {
  return text.replace(/\p{Cc}+/gu, ' ');
}

/** "v3, set <time> by <key id>: <reason>" — who set a version, when and why. */
function provenance(version: VersionSummary): string {
  return (
    `v${version.version}, set ${version.createdAt} by ${oneLine(version.createdBy)}: ` +
    JSON.stringify(version.reason)
  );
}

function formatValue(value: unknown): string {
  return value === undefined ? '(nothing)' : oneLine(JSON.stringify(value));
}

function changeLine(change: PolicyChange): string {
  if (change.op === 'add') return `+ ${change.path}: ${formatValue(change.to)}`;
  if (change.op === 'remove') return `- ${change.path}`;
  return `~ ${change.path}: ${formatValue(change.from)} → ${formatValue(change.to)}`;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

async function show(options: ShowOptions): Promise<void> {
  const client = connect(options);
  if (options.version !== undefined) {
    const found = await client.json<VersionDetail>('GET', versionPath(options.version));
    if (options.json) return printJson(found);
    return await printPolicy(found, found.document);
  }
  const live = await client.json<LivePolicy>('GET', '/v1/governance/policy');
  if (options.json) return printJson(live);
  // The live answer has no reason, time or author; its version's entry in the history has.
  await printPolicy(
    await client.json<VersionSummary>('GET', versionPath(live.version)),
    live.document,
  );
}

/** The header lines are YAML comments: the output is a policy file `set` takes back as it is. */
async function printPolicy(version: VersionSummary, document: unknown): Promise<void> {
  const text = await toYaml(document);
  printLine(`# policy ${provenance(version)}`);
  printLine(`# sha256 ${version.hash}`);
  process.stdout.write(text);
}

/**
 * Short lists of names on one line (`allowedClasses: [a, b]`), as config/default-policy.yaml. The
 * YAML library is loaded here, not with the CLI: every other command starts without it.
 */
async function toYaml(document: unknown): Promise<string> {
  const { Document, isScalar, visit } = await import('yaml');
  const yaml = new Document(document);
  visit(yaml, {
    Seq(_key, sequence) {
      const short = JSON.stringify(sequence.toJSON()).length <= SHORT_LIST_CHARS;
      if (short && sequence.items.every((item) => isScalar(item))) sequence.flow = true;
    },
  });
  return yaml.toString({ flowCollectionPadding: false, lineWidth: SHORT_LIST_CHARS + 40 });
}

async function versions(options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<{ versions: VersionSummary[] }>(
    'GET',
    '/v1/governance/policy/versions',
  );
  if (options.json) return printJson(answer);
  const rows = answer.versions.map((version) => [
    String(version.version),
    version.createdAt,
    oneLine(version.createdBy),
    version.hash.slice(0, 12),
    oneLine(version.reason),
  ]);
  printLine(formatTable([['VERSION', 'CREATED', 'BY', 'HASH', 'REASON'], ...rows]));
}

async function diff(n: number, options: RemoteOptions): Promise<void> {
  const found = await connect(options).json<VersionDetail>('GET', versionPath(n));
  if (options.json) return printJson(found);
  printLine(`policy ${provenance(found)}`);
  if (found.previousVersion === null) {
    printLine('the first version: there is nothing before it to compare');
    return;
  }
  printLine(`${plural(found.diff.length, 'change')} from v${found.previousVersion}:`);
  for (const change of found.diff) printLine(changeLine(change));
}

async function readSource(file: string): Promise<string> {
  try {
    if (file !== '-') return await readFile(file, 'utf8');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read ${file === '-' ? 'stdin' : file}: ${(error as Error).message}`,
    );
  }
}

/**
 * The document in a YAML or JSON file (JSON is YAML). Only the syntax is checked here: whether it
 * is a valid policy is the server's to say, with the path of each error.
 */
async function parsePolicyText(text: string, source: string): Promise<unknown> {
  const { parseDocument } = await import('yaml');
  const parsed = parseDocument(text);
  const [error] = parsed.errors;
  if (error) {
    const [headline = '', ...snippet] = error.message.split('\n');
    const position = error.linePos?.[0];
    const where = position ? `${source}:${position.line}:${position.col}` : source;
    const context = snippet.filter((line) => line.trim() !== '').map((line) => `    ${line}`);
    throw new UsageError(
      [`${where}: ${headline.replace(/ at line \d+, column \d+:$/, '')}`, ...context].join('\n'),
    );
  }
  try {
    return parsed.toJS();
  } catch (cause) {
    throw new UsageError(`${source}: ${(cause as Error).message}`);
  }
}

async function set(file: string, options: SetOptions): Promise<void> {
  const source = file === '-' ? 'stdin' : file;
  const document = await parsePolicyText(await readSource(file), source);
  const client = connect(options);
  const updated = await client.json<PolicyUpdateAnswer>('PUT', '/v1/governance/policy', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ document, reason: options.reason }),
  });
  if (options.json) return printJson(updated);
  if (!updated.changed) {
    printLine(
      `unchanged: policy v${updated.version} already holds this document ` +
        `(sha256 ${updated.hash}); no new version`,
    );
    return;
  }
  printLine(`policy v${updated.version} is live (sha256 ${updated.hash})`);
  await printSummary(client, updated.version);
}

async function restore(n: number, options: SetOptions): Promise<void> {
  const client = connect(options);
  const restored = await client.json<PolicyUpdateAnswer>('POST', '/v1/governance/policy/restore', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ version: n, reason: options.reason }),
  });
  if (options.json) return printJson(restored);
  if (!restored.changed) {
    printLine(`unchanged: policy v${restored.version} already holds the document of v${n}`);
    return;
  }
  printLine(`policy v${restored.version} is live: the document of v${n} (sha256 ${restored.hash})`);
  await printSummary(client, restored.version);
}

/** What the new version changed, from the server's diff; the change stands even if this fails. */
async function printSummary(client: BucketClient, version: number): Promise<void> {
  let found: VersionDetail;
  try {
    found = await client.json<VersionDetail>('GET', versionPath(version));
  } catch (error) {
    note(
      `bucket: the change is made, but its diff could not be read (${(error as Error).message}); ` +
        `see \`bucket policy diff ${version}\``,
    );
    return;
  }
  const from = `v${found.previousVersion ?? '-'}`;
  printLine(`${plural(found.diff.length, 'change')} from ${from}:`);
  for (const change of found.diff.slice(0, SUMMARY_CHANGES)) printLine(changeLine(change));
  if (found.diff.length > SUMMARY_CHANGES) {
    printLine(`… and ${found.diff.length - SUMMARY_CHANGES} more: bucket policy diff ${version}`);
  }
}

export function registerPolicy(program: Command): void {
  const policy = program
    .command('policy')
    .description(
      'The governance policy: every rule (products, classes, operations, sizes, limits) in one ' +
        'versioned document. Any key may read it; only the owner sets it.',
    );

  const showCommand = policy
    .command('show')
    .summary('print the live policy, or a version of it, as YAML')
    .description(
      'Print the live policy (or an earlier version) as YAML, headed by its version, when and ' +
        'by whom it was set, and why. The output is a policy file `bucket policy set` accepts.',
    )
    .option('--version <n>', 'print this version instead of the live one', positiveInteger);
  remoteOptions(showCommand)
    .addHelpText(
      'after',
      examples(
        'bucket policy show',
        'bucket policy show > policy.yaml      # edit, then: bucket policy set policy.yaml --reason …',
        'bucket policy show --version 1',
        'bucket policy show --json',
      ),
    )
    .action(show);

  const versionsCommand = policy
    .command('versions')
    .summary('list every policy version')
    .description('List every policy version, oldest first: when, by which key, and why.');
  remoteOptions(versionsCommand)
    .addHelpText('after', examples('bucket policy versions', 'bucket policy versions --json'))
    .action(versions);

  const diffCommand = policy
    .command('diff')
    .summary('print what a version changed')
    .description(
      'Print what a version changed from the one before it, one line per JSON Pointer: ' +
        '"~ path: old → new", "+ path: value", "- path".',
    )
    .argument('<n>', 'the policy version', positiveInteger);
  remoteOptions(diffCommand)
    .addHelpText('after', examples('bucket policy diff 2', 'bucket policy diff 2 --json'))
    .action(diff);

  const setCommand = policy
    .command('set')
    .summary('replace the policy with a YAML or JSON file (owner)')
    .description(
      'Replace the policy (owner key) with the document in a YAML or JSON file: a new version, ' +
        'live from the next request. The live document again makes no version ("unchanged", ' +
        'exit 0). A syntax error is reported with its line before anything is sent (exit 2); a ' +
        'document the server refuses is printed with the path of every error, and nothing ' +
        'changes (exit 1).',
    )
    .argument('<file>', 'the complete new policy document (YAML or JSON), or - to read stdin')
    .requiredOption('--reason <text>', 'why it changes, kept with the version (1–1000 characters)');
  remoteOptions(setCommand)
    .addHelpText(
      'after',
      examples(
        'bucket policy show > policy.yaml && $EDITOR policy.yaml',
        'bucket policy set policy.yaml --reason "raise the write rate for the launch"',
        'bucket policy show --version 3 | bucket policy set - --reason "back to v3"',
      ),
    )
    .action(set);

  const restoreCommand = policy
    .command('restore')
    .summary('make an earlier version live again (owner; works while the policy is unusable)')
    .description(
      'Make stored version N live again as the next version (owner key). Decided by the fixed ' +
        'owner-only rule, so it repairs a live version that is unusable (a row edited by hand, ' +
        'which every other request refuses with 503 gate_unavailable). Version N must itself be ' +
        'valid and relax no floor; refused while halted (switch to read_only first).',
    )
    .argument('<n>', 'the policy version to restore', positiveInteger)
    .requiredOption('--reason <text>', 'why, kept with the new version (1–1000 characters)');
  remoteOptions(restoreCommand)
    .addHelpText(
      'after',
      examples(
        'bucket policy versions',
        'bucket policy restore 3 --reason "v5 was edited by hand in the database"',
      ),
    )
    .action(restore);
}
