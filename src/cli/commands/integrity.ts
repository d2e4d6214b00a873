/**
 * `bucket scrub [start] [--wait]`, `bucket scrub show ID` and `bucket drift` (SPEC §9): start an
 * integrity scrub and follow it, and compare the live Bucket with its signed baseline. A failed
 * scrub and a drifted Bucket exit 1.
 */
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DriftCheck, DriftStatus } from '../../domain/drift.js';
import type { ScrubRecord } from '../../domain/scrub.js';
import { EXIT_FAILURE } from '../errors.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import { connect, examples, remoteOptions, type RemoteOptions } from '../remote.js';

const POLL_MS = 1000;

function printScrub(scrub: ScrubRecord): void {
  const { contents, entries, versions } = scrub.checked;
  printLine(`scrub: ${scrub.id}`);
  printLine(`status: ${scrub.status}`);
  printLine(`started: ${scrub.startedAt} by ${scrub.startedBy}`);
  if (scrub.finishedAt) printLine(`finished: ${scrub.finishedAt}`);
  printLine(`checked: ${contents} contents, ${entries} entries, ${versions} versions`);
  if (scrub.checkpoint) {
    printLine(`checkpoint: size ${scrub.checkpoint.size}, root ${scrub.checkpoint.rootHash}`);
  }
  for (const problem of scrub.problems) printLine(`problem: ${problem.code}: ${problem.message}`);
  if (scrub.status === 'failed') {
    process.exitCode = EXIT_FAILURE;
    note('see the incidents it opened: bucket incidents --open (OPERATIONS.md, "Scrub failure")');
  }
}

interface StartOptions extends RemoteOptions {
  readonly wait?: boolean;
}

async function follow(options: RemoteOptions, id: string, wait: boolean): Promise<void> {
  const client = connect(options);
  let scrub = await client.json<ScrubRecord>(
    'GET',
    `/v1/governance/scrub/${encodeURIComponent(id)}`,
  );
  while (wait && scrub.status === 'running') {
    if (!options.json && process.stderr.isTTY) {
      const { contents, entries, versions } = scrub.checked;
      process.stderr.write(`\r${entries} entries, ${versions} versions, ${contents} contents…`);
    }
    await sleep(POLL_MS);
    scrub = await client.json<ScrubRecord>('GET', `/v1/governance/scrub/${encodeURIComponent(id)}`);
  }
  if (wait && !options.json && process.stderr.isTTY) process.stderr.write('\n');
  if (options.json) {
    printJson(scrub);
    if (scrub.status === 'failed') process.exitCode = EXIT_FAILURE;
    return;
  }
  printScrub(scrub);
}

async function startScrub(options: StartOptions): Promise<void> {
  const started = await connect(options).json<{ id: string; status: string }>(
    'POST',
    '/v1/governance/scrub',
  );
  if (!options.wait) {
    if (options.json) return printJson(started);
    printLine(`scrub ${started.id} started`);
    note(`follow it with: bucket scrub show ${started.id}`);
    return;
  }
  await follow(options, started.id, true);
}

interface DriftAnswer {
  readonly status: DriftStatus;
  readonly baseline: {
    sequence: number;
    createdAt: string;
    reason: string;
    signatureValid: boolean;
  };
  readonly checks: DriftCheck[];
}

async function showDrift(options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<DriftAnswer>('GET', '/v1/governance/drift');
  if (answer.status === 'drifted') process.exitCode = EXIT_FAILURE;
  if (options.json) return printJson(answer);
  const { baseline } = answer;
  printLine(`drift: ${answer.status}`);
  printLine(
    `baseline: ${baseline.sequence} (${baseline.reason}, ${baseline.createdAt}), signature ` +
      (baseline.signatureValid ? 'valid' : 'INVALID'),
  );
  const rows = answer.checks.map((check) => [
    check.component,
    check.baseline === check.live ? 'same' : 'changed',
    check.explained ? 'yes' : 'NO',
    check.explanation ?? '-',
  ]);
  printLine(formatTable([['COMPONENT', 'LIVE', 'EXPLAINED', 'EXPLANATION'], ...rows]));
  if (answer.status === 'drifted') {
    note('drift opened an incident and made the Bucket read_only (OPERATIONS.md, "Drift")');
  }
}

export function registerIntegrity(program: Command): void {
  const scrub = program
    .command('scrub')
    .description(
      'Integrity scrubs (owner or executor key to start; owner, executor, auditor to read): ' +
        'every content re-hashed, the audit log verified from the last scrubbed checkpoint, ' +
        'every version against its entry, the drift checks. A failed scrub exits 1.',
    );
  const start = scrub
    .command('start', { isDefault: true })
    .description('Start a scrub in the background; --wait follows it to its end.');
  remoteOptions(start.option('--wait', 'follow the scrub until it passes or fails'))
    .addHelpText(
      'after',
      examples('bucket scrub', 'bucket scrub start --wait', 'bucket scrub --json'),
    )
    .action(startScrub);
  const show = scrub
    .command('show')
    .description('Show a scrub: status, what it checked, what it found.')
    .argument('<id>', 'the scrub id (`bucket scrub` prints it)');
  remoteOptions(show.option('--wait', 'follow the scrub until it passes or fails'))
    .addHelpText('after', examples('bucket scrub show scr_0123456789abcdef --wait'))
    .action((id: string, options: StartOptions) => follow(options, id, options.wait === true));

  const drift = program
    .command('drift')
    .description(
      'Compare the live Bucket (database schema, policy, routes, class schemas) with its signed ' +
        'baseline (owner, executor, auditor key). Exit 1 when drifted.',
    );
  remoteOptions(drift)
    .addHelpText('after', examples('bucket drift', 'bucket drift --json'))
    .action(showDrift);
}
