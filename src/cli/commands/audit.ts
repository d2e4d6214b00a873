/**
 * `bucket audit verify`: recomputes the audit tree from storage (or from an export with only the
 * verifier key) and checks checkpoints and artifact versions against it (SPEC §6 Verification).
 * `bucket audit entries`: the decisions in the log, filtered, page after page.
 */
import type { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { VerifyReport } from '../../audit/verify.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { note, printJson, printLine } from '../output.js';
import { terminalBar } from '../progress.js';
import {
  connect,
  examples,
  nonNegativeInteger,
  parseArtifactRef,
  positiveInteger,
  remoteOptions,
  type RemoteOptions,
} from '../remote.js';

/** Below this many entries verification is quick enough that a bar would only flicker. */
const PROGRESS_MIN_ENTRIES = 10_000;

interface VerifyOptions {
  readonly dataDir?: string;
  readonly export?: string;
  readonly vkey?: string;
  readonly json?: boolean;
}

interface EntryProgress {
  update(done: number, total: number | undefined): void;
  stop(): void;
}

function entryProgress(terminal: NodeJS.WriteStream): EntryProgress {
  let bar: SingleBar | null = null;
  return {
    update(done, total) {
      if (total === undefined || total <= PROGRESS_MIN_ENTRIES) return;
      if (!bar) {
        bar = terminalBar(
          terminal,
          'verifying [{bar}] {percentage}% | {value} of {total} entries | ETA {eta_formatted}',
        );
        bar?.start(total, 0);
      }
      bar?.update(done);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

function summary(report: VerifyReport, seconds: number): string[] {
  const checkpoints =
    `${report.checkpoints} checkpoint${report.checkpoints === 1 ? '' : 's'}` +
    (report.checkpointsSkipped > 0
      ? ` (${report.checkpointsSkipped} before the export skipped)`
      : '');
  return [
    `entries:     ${report.entries} (tree size ${report.treeSize})`,
    `root:        ${report.rootHash}`,
    `checkpoints: ${checkpoints}: signatures, roots and consistency`,
    `versions:    ${report.versions}: content digests and their audit entries`,
    `governance:  ${report.policyVersions} policy versions, ${report.keys} keys: their audit entries`,
    `time:        ${seconds.toFixed(2)} s`,
  ];
}

async function verify(options: VerifyOptions): Promise<void> {
  if ((options.export === undefined) !== (options.vkey === undefined)) {
    throw new UsageError('--export and --vkey go together: the export file and its verifier key');
  }
  if (options.export !== undefined && options.dataDir !== undefined) {
    throw new UsageError('--data-dir verifies storage; --export verifies a file: choose one');
  }
  const sources = await import('../audit-verify.js');
  const progress = entryProgress(process.stderr);
  const started = performance.now();
  let report: VerifyReport;
  let source: Record<string, string>;
  try {
    if (options.export !== undefined && options.vkey !== undefined) {
      const verifier = await sources.readVerifierKey(options.vkey);
      report = await sources.verifyExport(options.export, verifier, progress.update);
      source = { export: options.export, origin: verifier.name };
    } else {
      const result = await sources.verifyStorage(options.dataDir, progress.update);
      report = result.report;
      source = { dataDir: result.dataDir, origin: result.origin, vkey: result.vkey };
    }
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const ok = report.problemCount === 0;
  if (options.json) {
    printJson({ ok, ...source, ...report, seconds });
  } else {
    const where = source['export'] ?? source['dataDir'] ?? '';
    printLine(
      `audit log ${ok ? 'verified' : 'FAILED verification'}: ${where} (${source['origin'] ?? ''})`,
    );
    for (const line of summary(report, seconds)) printLine(`  ${line}`);
  }
  if (!ok) {
    for (const problem of report.problems) {
      note(`bucket: audit: ${problem.code}: ${problem.message}`);
    }
    const hidden = report.problemCount - report.problems.length;
    if (hidden > 0) note(`bucket: audit: … and ${hidden} more problems`);
    note(`bucket: audit verification failed: ${report.problemCount} problem(s)`);
    process.exitCode = EXIT_FAILURE;
  }
}

/** One entry of `GET /v1/audit/entries`, with the decision fields the listing prints. */
interface EntryItem {
  readonly index: number;
  readonly entry: {
    readonly time: string;
    readonly allow: boolean;
    readonly status: number;
    readonly operation: string;
    readonly principal: { readonly id: string };
    readonly target: { product: string | null; class: string | null; name: string | null };
    readonly threats: readonly { readonly id: string }[];
    readonly count?: number;
  };
  readonly canonical: string;
  readonly leafHash: string;
}

interface EntriesOptions extends RemoteOptions {
  readonly artifact?: string;
  readonly principal?: string;
  readonly decision?: string;
  readonly threat?: string;
  readonly since?: string;
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

const DEFAULT_ENTRIES = 50;
/** The most a page of GET /v1/audit/entries holds (the route's cap). */
const PAGE_MAX = 1000;
/** Below this many entries to read, following the pages is quick enough to need no bar. */
const SCAN_PROGRESS_MIN = 100_000;

function entryLine({ index, entry }: EntryItem): string {
  const target = [entry.target.product, entry.target.class, entry.target.name]
    .filter((part) => part !== null)
    .join('/');
  const threats = entry.threats.map((t) => t.id).join(',');
  return [
    String(index).padStart(8),
    entry.time,
    `${entry.allow ? 'ALLOW' : 'DENY '} ${entry.status}`,
    entry.operation.padEnd(8),
    entry.principal.id,
    target || '-',
    threats === '' ? '' : `threats ${threats}`,
    entry.count !== undefined ? `(×${entry.count})` : '',
  ]
    .filter((field) => field !== '')
    .join('  ');
}

/** A bar over the log's indices while the pages of a long scan are followed (terminals only). */
function scanProgress(terminal: NodeJS.WriteStream, size: number | null) {
  if (size === null || size < SCAN_PROGRESS_MIN) return null;
  const bar = terminalBar(
    terminal,
    'reading the log [{bar}] {percentage}% | entry {value} of {total}',
  );
  bar?.start(size, 0);
  return bar;
}

/**
 * `bucket audit entries`: follows the server's pages — which may be short or empty where the
 * server stopped reading the log (a query no index answers reads a bounded window per request) —
 * until it has `--limit` entries, or to the end with `--all`.
 */
async function entries(options: EntriesOptions): Promise<void> {
  if (options.decision !== undefined && !['allow', 'deny'].includes(options.decision)) {
    throw new UsageError(`--decision is allow or deny, not "${options.decision}"`);
  }
  if (options.artifact !== undefined) parseArtifactRef(options.artifact);
  if (options.since !== undefined && Number.isNaN(Date.parse(options.since))) {
    throw new UsageError(`--since must be an ISO-8601 date-time, not "${options.since}"`);
  }
  if (options.all && options.limit !== undefined) {
    throw new UsageError('--all reads every entry: leave --limit out');
  }
  const client = connect(options);
  const wanted = options.all ? Infinity : (options.limit ?? DEFAULT_ENTRIES);
  const found: EntryItem[] = [];
  let cursor: string | null = options.cursor ?? null;
  let bar: SingleBar | null | undefined;
  let listed = 0;
  try {
    do {
      const page = await client.json<{ entries: EntryItem[]; nextCursor: string | null }>(
        'GET',
        '/v1/audit/entries',
        {
          query: {
            artifact: options.artifact,
            principal: options.principal,
            decision: options.decision,
            threat: options.threat,
            since: options.since,
            limit: Math.min(PAGE_MAX, wanted - listed),
            cursor: cursor ?? undefined,
          },
        },
      );
      if (options.json) found.push(...page.entries);
      else for (const item of page.entries) printLine(entryLine(item));
      listed += page.entries.length;
      cursor = page.nextCursor;
      if (bar === undefined && cursor !== null) {
        // Only a scan that goes on past its first page asks how long the log is.
        const checkpoint = await client.json<{ size: number }>('GET', '/v1/audit/checkpoint');
        bar = scanProgress(process.stderr, checkpoint.size);
      }
      if (bar && cursor !== null) bar.update(Number(cursor) + 1);
    } while (cursor !== null && listed < wanted);
  } finally {
    bar?.stop();
  }
  if (options.json) return printJson({ entries: found, nextCursor: cursor });
  if (listed === 0) note('no entries');
  if (cursor !== null) note(`more entries: repeat with --cursor '${cursor}', or use --all`);
}

interface ProveOptions extends RemoteOptions {
  readonly vkey: string;
  readonly leafHash?: string;
  readonly sinceCheckpoint?: string;
  readonly saveCheckpoint?: string;
}

/** `bucket audit prove`: checks signed checkpoints, receipts and consistency (audit-prove.ts). */
async function proveCommand(index: number | undefined, options: ProveOptions): Promise<void> {
  const { readVerifierKey } = await import('../audit-verify.js');
  const { prove, proveLines, ProofFailure } = await import('../audit-prove.js');
  const verifier = await readVerifierKey(options.vkey);
  try {
    const report = await prove(connect(options), {
      verifier,
      index,
      leafHash: options.leafHash?.toLowerCase(),
      since: options.sinceCheckpoint,
      save: options.saveCheckpoint,
    });
    if (options.json) printJson({ ok: true, ...report });
    else for (const line of proveLines(report)) printLine(line);
  } catch (error) {
    if (error instanceof ProofFailure && options.json)
      printJson({ ok: false, problem: error.message });
    throw error;
  }
}

export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description('Read and check the tamper-evident audit log.');
  const entriesCommand = audit
    .command('entries')
    .description(
      'List audit entries (one per gate decision) in log order: index, time, decision and ' +
        'status, operation, key id, target, threats. Filters combine; a product key sees only ' +
        "its product's entries. Prints --limit entries (50 by default) and how to go on, or " +
        'every entry with --all.',
    )
    .option('--artifact <artifact>', 'only entries about <product>/<class>/<name>')
    .option('--principal <key-id>', 'only decisions on requests of this key')
    .option('--decision <allow|deny>', 'only allows, or only denials')
    .option('--threat <id>', 'only decisions that found this threat (T1 … T7)')
    .option('--since <time>', 'only entries at or after this ISO-8601 time')
    .option(
      '--limit <n>',
      `how many entries to print (default ${DEFAULT_ENTRIES})`,
      positiveInteger,
    )
    .option('--cursor <cursor>', 'continue where a previous listing stopped')
    .option('--all', 'print every matching entry to the end of the log');
  remoteOptions(entriesCommand)
    .addHelpText(
      'after',
      examples(
        'bucket audit entries --artifact ai_avatar/avatar_config/aria.json',
        'bucket audit entries --principal key_3f2a… --decision deny --all',
        'bucket audit entries --threat T1 --since 2026-11-01T00:00:00Z --json',
      ),
    )
    .action(entries);
  audit
    .command('verify')
    .description(
      'Recompute the audit Merkle tree and check every entry, every signed checkpoint (signature, ' +
        'root, consistency) and every artifact version (content digest, and the audit entry that ' +
        'allowed it). Reads the storage of `bucket serve` (BUCKET_DATA_DIR, BUCKET_AUDIT_KEY_FILE, ' +
        'BUCKET_AUDIT_ORIGIN) read-only, also while the server runs; or, with --export and --vkey, ' +
        'an export of GET /v1/audit/export with only the public key. Exit 0: verified; 1: a ' +
        'problem was found (each one is printed on stderr) or the storage could not be read; 2: ' +
        'wrong command line.',
    )
    .option('--data-dir <dir>', 'the data directory (default: $BUCKET_DATA_DIR, else ./data)')
    .option('--export <file>', 'verify this export file (JSON lines of GET /v1/audit/export)')
    .option(
      '--vkey <vkey>',
      'with --export: the verifier key (<name>+<id>+<key>, the vkey of GET /v1/audit/public-key) or a file holding it',
    )
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      examples(
        'bucket audit verify',
        'BUCKET_DATA_DIR=/srv/bucket bucket audit verify --json',
        'bucket audit verify --data-dir /srv/bucket',
        'bucket audit verify --export audit.jsonl --vkey "$(cat audit.vkey)"',
        'bucket audit verify --export audit.jsonl --vkey audit.vkey',
      ),
    )
    .action(verify);
  const proveCommandLine = audit
    .command('prove')
    .description(
      "Check the Bucket's audit log against the verifier key you hold, trusting nothing the " +
        'server says: the current checkpoint is signed by that key; with an index (a write ' +
        "receipt's audit.leafIndex, and --leaf-hash its audit.leafHash), that entry is in the " +
        'signed tree; with --since-checkpoint, that the log extends a checkpoint saved earlier ' +
        '(nothing rewritten, removed or forked). Exit 0: every check passed; 1: one failed (it ' +
        'is named) or the Bucket could not be asked; 2: wrong command line.',
    )
    .argument('[index]', 'the entry to prove (a receipt’s audit.leafIndex)', nonNegativeInteger)
    .requiredOption(
      '--vkey <vkey>',
      'the verifier key (<name>+<id>+<key>, the vkey of GET /v1/audit/public-key, kept apart ' +
        'from the server) or a file holding it',
    )
    .option('--leaf-hash <hex>', 'the receipt’s audit.leafHash: the entry must hash to it')
    .option(
      '--since-checkpoint <file>',
      'a checkpoint saved earlier: the log must extend it (missing and also the ' +
        '--save-checkpoint file: a first run, nothing to compare)',
    )
    .option(
      '--save-checkpoint <file>',
      'save the verified checkpoint, for a later --since-checkpoint',
    );
  remoteOptions(proveCommandLine)
    .addHelpText(
      'after',
      examples(
        'bucket audit prove --vkey audit.vkey --save-checkpoint audit.checkpoint',
        'bucket audit prove 17 --leaf-hash 4475bdd6…fac --vkey audit.vkey',
        'bucket audit prove --vkey audit.vkey --since-checkpoint audit.checkpoint --save-checkpoint audit.checkpoint',
      ),
    )
    .action(proveCommand);
}
