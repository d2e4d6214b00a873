/**
 * `npm run bench`: the Bucket measured beside a bare Fastify 5 server in the same run, each in its
 * own process. Prints one table (or `--json`); always exits 0 once it has measured — a missed
 * target is a finding, not a test failure. How to read it: docs/PERFORMANCE.md.
 */
import { cpus } from 'node:os';
import { MiB, parseOptions, USAGE, UsageError, type BenchOptions } from './lib/options.js';
import type { ServerProcess } from './lib/processes.js';
import { watchOthers, type ProcessTracker } from './lib/proc.js';
import { describeTarget, evaluate, failures, formatTable, type Row } from './lib/report.js';
import {
  disposeRunningBuckets,
  startBare,
  startBucket,
  type BucketUnderTest,
} from './lib/servers.js';
import type { Suite } from './lib/suite.js';
import { audit } from './lib/suites/audit.js';
import { batch } from './lib/suites/batch.js';
import { coreRuns } from './lib/suites/core-runs.js';
import { certification } from './lib/suites/certification.js';
import { events } from './lib/suites/events.js';
import { gateDecision } from './lib/suites/gate-decision.js';
import { gateOverhead, outboxOverhead } from './lib/suites/gate-overhead.js';
import { largeTransfer } from './lib/suites/large-transfer.js';
import { retention } from './lib/suites/retention.js';
import { scaleOut } from './lib/suites/scale-out.js';
import { scrub } from './lib/suites/scrub.js';
import { s3Door } from './lib/suites/s3.js';
import { smallRequests } from './lib/suites/small-requests.js';
import { subjectErasure, subjectTransfer } from './lib/suites/subjects.js';

/** In table order. */
const SUITES: readonly Suite[] = [
  smallRequests,
  batch,
  gateOverhead,
  outboxOverhead,
  gateDecision,
  largeTransfer,
  audit,
  retention,
  subjectTransfer,
  subjectErasure,
  events,
  coreRuns,
  scaleOut,
  scrub,
  certification,
  s3Door,
];

/** The share of the machine's CPU other processes may take before the figures are flagged. */
const OTHERS_WARNING = 0.1;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

function describeRun(options: BenchOptions): string {
  const { profile } = options;
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return (
    `${options.quick ? 'quick' : 'full'} run: ${profile.connections} connections × ` +
    `${profile.loadSeconds} s (after ${profile.warmupSeconds} s warm-up), ` +
    `${profile.transferBytes / MiB} MB transfer; node ${process.version}, ` +
    `${cpus().length} × ${cpu}`
  );
}

async function runSuites(
  options: BenchOptions,
  bucket: BucketUnderTest,
  bare: ServerProcess,
  processes: ProcessTracker,
): Promise<Row[]> {
  const rows: Row[] = [];
  const chosen =
    options.only === null
      ? SUITES
      : SUITES.filter((suite) => options.only?.includes(suite.name.toLowerCase()));
  for (const suite of chosen) {
    try {
      rows.push(...(await suite.run({ profile: options.profile, bucket, bare, log, processes })));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${suite.name} failed: ${message}`);
      rows.push({
        name: suite.name,
        unit: '',
        bucket: null,
        bare: null,
        note: `failed: ${message}`,
      });
    }
  }
  return rows;
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  log(describeRun(options));

  const [bucketStart, bareStart] = await Promise.allSettled([startBucket(), startBare()]);
  const stopAll = async () => {
    await Promise.all([
      disposeRunningBuckets(),
      bareStart.status === 'fulfilled' ? bareStart.value.stop() : undefined,
    ]);
  };
  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the servers`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  let rows: Row[];
  let others: number | null = null;
  try {
    if (bucketStart.status === 'rejected') throw bucketStart.reason;
    if (bareStart.status === 'rejected') throw bareStart.reason;
    log(`Bucket at ${bucketStart.value.server.url}, bare Fastify at ${bareStart.value.url}`);
    const watch = await watchOthers([
      process.pid,
      bucketStart.value.server.pid,
      bareStart.value.pid,
    ]);
    rows = await runSuites(options, bucketStart.value, bareStart.value, watch);
    others = await watch.stop();
  } finally {
    await stopAll();
  }
  const othersWarning =
    others !== null && others > OTHERS_WARNING
      ? `other processes used ${Math.round(others * 100)} % of the machine's CPU during the ` +
        'run: every figure is lower and noisier than on an idle machine'
      : null;
  if (othersWarning !== null) log(`warning: ${othersWarning}`);

  const evaluated = rows.map(evaluate);
  const missed = failures(evaluated);
  if (options.json) {
    const report = {
      run: options.quick ? 'quick' : 'full',
      profile: options.profile,
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? null,
      finishedAt: new Date().toISOString(),
      otherProcessesCpuShare: others,
      rows: evaluated.map((row) => ({ ...row, targetText: describeTarget(row.target, row.unit) })),
      missed: missed.map((row) => row.name),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  process.stdout.write(`\n${describeRun(options)}\n\n${formatTable(evaluated)}\n\n`);
  if (othersWarning !== null) process.stdout.write(`Warning: ${othersWarning}.\n`);
  process.stdout.write(
    missed.length === 0
      ? 'All targets met.\n'
      : `TARGET MISSED (${missed.length}): ${missed.map((row) => row.name).join(', ')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
