/**
 * `bucket retention set|sweep` (SPEC §8): the owner changes a version's retention (lengthen
 * anything, shorten governance mode with a reason, never compliance); the owner or an executor
 * runs the retention sweep now, or previews it with --dry-run.
 */
import type { Command } from 'commander';
import type { Retention } from '../../domain/artifact.js';
import type { SweepReport } from '../../services/retention-sweep.js';
import { UsageError } from '../errors.js';
import { formatTable, printJson, printLine } from '../output.js';
import {
  artifactArgument,
  artifactPath,
  connect,
  examples,
  formatRef,
  isoTime,
  positiveInteger,
  remoteOptions,
  type ArtifactRef,
  type RemoteOptions,
} from '../remote.js';

interface SetOptions extends RemoteOptions {
  readonly until?: string;
  readonly permanent?: boolean;
  readonly version?: number;
  readonly reason: string;
}

interface RetentionAnswer {
  readonly version: number;
  readonly retention: Retention;
  readonly previous: Retention;
}

const describe = (retention: Retention) =>
  `${retention.mode} until ${retention.until ?? 'forever (permanent)'}`;

async function set(ref: ArtifactRef, options: SetOptions): Promise<void> {
  if ((options.until === undefined) === (options.permanent !== true)) {
    throw new UsageError('give exactly one of --until <time> and --permanent');
  }
  const answer = await connect(options).json<RetentionAnswer>(
    'PUT',
    artifactPath(ref, '/retention'),
    {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        until: options.permanent ? null : options.until,
        reason: options.reason,
        ...(options.version !== undefined ? { version: options.version } : {}),
      }),
    },
  );
  if (options.json) return printJson(answer);
  printLine(
    `${formatRef(ref)} v${answer.version}: ${describe(answer.retention)} ` +
      `(was ${describe(answer.previous)})`,
  );
}

async function sweep(options: RemoteOptions & { readonly dryRun?: boolean }): Promise<void> {
  const report = await connect(options).json<SweepReport>(
    'POST',
    '/v1/governance/retention/sweep',
    {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dryRun: options.dryRun === true }),
    },
  );
  if (options.json) return printJson(report);
  const verb = report.dryRun ? 'would purge' : 'purged';
  printLine(
    `${verb} ${report.purged.length} version(s); kept ${report.kept} whose retention ended`,
  );
  if (report.purged.length === 0) return;
  const rows = report.purged.map((p) => [
    `${p.product}/${p.class}/${p.name}`,
    `v${p.version}`,
    p.reason,
    p.sha256,
  ]);
  printLine(formatTable([['ARTIFACT', 'VERSION', 'REASON', 'SHA256'], ...rows]));
}

export function registerRetention(program: Command): void {
  const retention = program
    .command('retention')
    .description("Change a version's retention (owner) or run the retention sweep (SPEC §8).");

  const setCommand = retention
    .command('set')
    .description(
      "Set a version's retention end: lengthen anything; shorten governance mode (audited with " +
        'the reason); compliance mode is never shortened (403 compliance_retention).',
    )
    .addArgument(artifactArgument())
    .option(
      '--until <time>',
      'the new end (ISO-8601); the past makes it due at the next sweep',
      isoTime,
    )
    .option('--permanent', 'keep it forever')
    .option('--version <n>', 'the version (default: the current one)', positiveInteger)
    .requiredOption('--reason <text>', 'why (recorded in the audit log)');
  remoteOptions(setCommand)
    .addHelpText(
      'after',
      examples(
        'bucket retention set gurukul/user_progress/u/42.json --until 2030-01-01T00:00:00Z --reason "audit request"',
        'bucket retention set core/agent_output/runs/r1/1-a.json --permanent --reason "evidence"',
      ),
    )
    .action(set);

  const sweepCommand = retention
    .command('sweep')
    .description(
      'Run the retention sweep now (owner or executor): purge the content of the versions SPEC §8 ' +
        'allows; --dry-run lists them without purging.',
    )
    .option('--dry-run', 'list what would be purged, purge nothing');
  remoteOptions(sweepCommand)
    .addHelpText('after', examples('bucket retention sweep --dry-run', 'bucket retention sweep'))
    .action(sweep);
}
