/**
 * `bucket audit verify`: recomputes the audit tree from storage (or from an export with only the
 * verifier key) and checks checkpoints and artifact versions against it (SPEC §6 Verification).
 */
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { VerifyReport } from '../../audit/verify.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { note, printJson, printLine } from '../output.js';
import { examples } from '../remote.js';

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
      if (total === undefined || total <= PROGRESS_MIN_ENTRIES || terminal.isTTY !== true) return;
      if (!bar) {
        bar = new SingleBar(
          {
            stream: terminal,
            format:
              'verifying [{bar}] {percentage}% | {value} of {total} entries | ETA {eta_formatted}',
            fps: 10,
          },
          Presets.shades_classic,
        );
        bar.start(total, 0);
      }
      bar.update(done);
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
    for (const problem of report.problems) note(`bucket: audit: ${problem.message}`);
    const hidden = report.problemCount - report.problems.length;
    if (hidden > 0) note(`bucket: audit: … and ${hidden} more problems`);
    note(`bucket: audit verification failed: ${report.problemCount} problem(s)`);
    process.exitCode = EXIT_FAILURE;
  }
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('Check the tamper-evident audit log.');
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
}
