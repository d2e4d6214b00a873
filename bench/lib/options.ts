/** Command-line options of `npm run bench` and the run profile they select. */

export interface BenchProfile {
  /** Seconds of each measured autocannon run. */
  readonly loadSeconds: number;
  /** Seconds of the unmeasured run before each measured one, so both servers are JIT-warm. */
  readonly warmupSeconds: number;
  /**
   * Rounds of the 1 KiB rates, each measuring the bare server then the Bucket back to back; the
   * round with the median ratio is reported, so that one slow moment of a shared machine does
   * not decide the comparison.
   */
  readonly rateRounds: number;
  /** Concurrent autocannon connections. */
  readonly connections: number;
  /** Size of the streamed upload and download. */
  readonly transferBytes: number;
  /** Allowed writes decided in-process (both phases each), after a quarter as many to warm up. */
  readonly gateDecisions: number;
  /**
   * Rounds of `gateDecisions` each; the round with the median p99 is reported (a 7 µs decision's
   * 99th percentile moves with whatever else the machine's host does during one round).
   */
  readonly gateRounds: number;
  /** Audit entries appended while the append rate is measured. */
  readonly auditAppends: number;
  /** Entries in the log when proofs and verification are measured. */
  readonly auditLogSize: number;
  /** Server-Sent Event subscribers that receive the burst of events. */
  readonly eventSubscribers: number;
}

export interface BenchOptions {
  readonly json: boolean;
  readonly quick: boolean;
  readonly help: boolean;
  readonly profile: BenchProfile;
  /** Suite names (`--only`), lower case; null runs them all. */
  readonly only: readonly string[] | null;
}

export const MiB = 1024 * 1024;

const FULL: BenchProfile = {
  loadSeconds: 5,
  warmupSeconds: 1,
  rateRounds: 3,
  connections: 50,
  transferBytes: 200 * MiB,
  gateDecisions: 200_000,
  gateRounds: 3,
  auditAppends: 100_000,
  auditLogSize: 1_000_000,
  eventSubscribers: 1000,
};

const QUICK: BenchProfile = {
  loadSeconds: 2,
  warmupSeconds: 0.5,
  rateRounds: 1,
  connections: 50,
  transferBytes: 50 * MiB,
  gateDecisions: 50_000,
  gateRounds: 1,
  auditAppends: 30_000,
  auditLogSize: 100_000,
  eventSubscribers: 200,
};

/** The suites' names, in table order (`--only` accepts these). */
export const SUITE_NAMES = [
  '1 KiB requests',
  'batch',
  'gate overhead',
  'outbox overhead',
  'gate decision',
  'large transfer',
  'audit log',
  'retention sweep',
  'subject transfer',
  'subject erasure',
  'event streams',
  'core runs',
  'scale-out',
  'scrub',
  'certification',
  's3',
].join(', ');

export const USAGE = `Usage: npm run bench -- [--quick] [--json] [--only SUITES]

Measures the Bucket beside a bare Fastify 5 server started in the same run.
  --quick   2 s load runs, a 50 MB transfer, a 100k-entry audit log and 200 event streams
            instead of 5 s, 200 MB, 1M entries and 1,000 streams, and the 1 KiB rates in one
            round instead of three
  --json    print one JSON document instead of the table (progress still goes to stderr)
  --only S  run only these suites (comma-separated, case-insensitive):
            ${SUITE_NAMES}
  --help    this text
See docs/PERFORMANCE.md for how to read the figures.`;

export class UsageError extends Error {}

export function parseOptions(argv: readonly string[]): BenchOptions {
  let json = false;
  let quick = false;
  let help = false;
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i += 1) {
    const argument = argv[i] as string;
    if (argument === '--only' || argument.startsWith('--only=')) {
      const value = argument === '--only' ? argv[(i += 1)] : argument.slice('--only='.length);
      if (value === undefined || value.trim() === '')
        throw new UsageError('--only needs suite names');
      only = value.split(',').map((name) => name.trim().toLowerCase());
      const known = SUITE_NAMES.toLowerCase().split(', ');
      const unknown = only.filter((name) => !known.includes(name));
      if (unknown.length) throw new UsageError(`unknown suite "${unknown.join('", "')}"`);
    } else if (argument === '--json') json = true;
    else if (argument === '--quick') quick = true;
    else if (argument === '--help' || argument === '-h') help = true;
    else throw new UsageError(`unknown option "${argument}"`);
  }
  return { json, quick, help, only, profile: quick ? QUICK : FULL };
}
