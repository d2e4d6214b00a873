/**
 * `bucket subjects export SUBJECT [--out FILE]`: a data subject's access export (SPEC §8 DSAR,
 * GDPR Art. 15), NDJSON streamed to stdout or to a file (mode 0600: it holds the subject's
 * personal data). An export without its summary line was cut short: the command fails and removes
 * the file it was writing. `bucket subjects erase SUBJECT --reason R`: its erasure (Art. 17), the
 * report printed (or `--json`).
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { PRIVATE_FILE_MODE } from '../../storage/private-files.js';
import { CliError } from '../errors.js';
import type { ErasureReport } from '../../domain/erasure.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import { connect, examples, remoteOptions, type RemoteOptions } from '../remote.js';

interface ExportOptions extends RemoteOptions {
  readonly out?: string;
}

/** Passes the lines through, keeping the last one (the summary) to check the export was whole. */
class LastLine extends Transform {
  private tail = '';

  override _transform(chunk: Buffer, _encoding: string, done: () => void): void {
    const text = this.tail + chunk.toString('latin1');
    const end = text.lastIndexOf('\n', text.length - 2);
    this.tail = end >= 0 ? text.slice(end + 1) : text.slice(-64 * 1024);
    this.push(chunk);
    done();
  }

  summary(): { versions: number; bytes: number; products: string[] } | null {
    try {
      const parsed = JSON.parse(this.tail) as { summary?: unknown };
      return (parsed.summary as ReturnType<LastLine['summary']>) ?? null;
    } catch {
      return null;
    }
  }
}

async function exportSubject(subject: string, options: ExportOptions): Promise<void> {
  const client = connect(options);
  const response = await client.send(
    'GET',
    `/v1/governance/subjects/${encodeURIComponent(subject)}/export`,
  );
  const lines = new LastLine();
  const temporary = options.out === undefined ? null : `${options.out}.part`;
  const sink: Writable =
    temporary === null
      ? process.stdout
      : createWriteStream(temporary, { mode: PRIVATE_FILE_MODE, flags: 'w' });
  try {
    await pipeline(response, lines, sink, { end: temporary !== null });
    const summary = lines.summary();
    if (!summary) throw new CliError('the export was cut short (no summary line)');
    if (temporary !== null && options.out !== undefined) await rename(temporary, options.out);
    note(
      `subject ${subject}: ${summary.versions} version(s), ${summary.bytes} bytes, ` +
        `products: ${summary.products.join(', ') || '-'}`,
    );
  } catch (error) {
    if (temporary !== null) await rm(temporary, { force: true });
    throw error;
  }
}

async function erase(
  subject: string,
  options: RemoteOptions & { readonly reason: string },
): Promise<void> {
  const report = await connect(options).json<ErasureReport>('POST', '/v1/governance/erasures', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subject, reason: options.reason }),
  });
  printReport(report, options);
}

async function showErasure(id: string, options: RemoteOptions): Promise<void> {
  const report = await connect(options).json<ErasureReport>(
    'GET',
    `/v1/governance/erasures/${encodeURIComponent(id)}`,
  );
  printReport(report, options);
}

/** What the erasure did with the subject's key, as the report records it. */
function keyOutcome(report: ErasureReport): string {
  if (report.keyDestroyed) return 'key destroyed';
  // keyFound is absent from reports made before it was recorded.
  if (report.keyFound === false) {
    return 'no key destroyed: the subject had no live key (no encrypted content, or an earlier erasure destroyed it)';
  }
  return 'key kept (something is withheld)';
}

function printReport(report: ErasureReport, options: RemoteOptions): void {
  if (options.json) return printJson(report);
  printLine(
    `erasure ${report.id} of subject ${report.subject}: ${report.erased.length} version(s) ` +
      `erased, ${report.withheld.length} withheld; ${keyOutcome(report)}` +
      `; audit entry ${report.audit.leafIndex}`,
  );
  const place = (v: { product: string; class: string; name: string; version: number }) =>
    `${v.product}/${v.class}/${v.name} v${v.version}`;
  if (report.erased.length > 0) {
    printLine(
      formatTable([['ERASED', 'SHA256'], ...report.erased.map((v) => [place(v), v.sha256])]),
    );
  }
  if (report.withheld.length > 0) {
    printLine(
      formatTable([['WITHHELD', 'REASON'], ...report.withheld.map((v) => [place(v), v.reason])]),
    );
  }
}

export function registerSubjects(program: Command): void {
  const subjects = program
    .command('subjects')
    .description('Data subjects (SPEC §8): what the Bucket holds of a subject.');
  const exportCommand = subjects
    .command('export')
    .description(
      'Export every version of a data subject still holding content (NDJSON, one line a ' +
        'version, then a summary line): a subject access request (GDPR Art. 15). Owner and ' +
        'auditor keys; only the owner’s export carries the contents.',
    )
    .argument('<subject>', 'the subject id the writes named in x-bucket-meta-subject')
    .option('--out <file>', 'write the export to this file (0600) instead of stdout');
  remoteOptions(exportCommand)
    .addHelpText(
      'after',
      examples(
        'bucket subjects export user:4711 --out dsar-4711.ndjson',
        'bucket subjects export user:4711 | jq -c "select(.summary)"',
      ),
    )
    .action(exportSubject);

  const eraseCommand = subjects
    .command('erase')
    .description(
      'Erase a data subject (GDPR Art. 17, owner): every version of the subject not under a ' +
        'legal hold or an unexpired compliance retention loses its content; its key is ' +
        'destroyed when nothing is withheld. Prints the report (its hash is in the audit log).',
    )
    .argument('<subject>', 'the subject id the writes named in x-bucket-meta-subject')
    .requiredOption('--reason <text>', 'why, e.g. the request reference (recorded in the report)');
  remoteOptions(eraseCommand)
    .addHelpText(
      'after',
      examples(
        'bucket subjects erase user:4711 --reason "Art. 17 request 2027-031"',
        'bucket subjects erase user:4711 --reason "Art. 17 request 2027-031" --json > report.json',
      ),
    )
    .action(erase);

  const erasureCommand = subjects
    .command('erasure')
    .description("Print an erasure's report again (owner, executor, auditor).")
    .argument('<id>', 'the erasure id (erasure_…, from `bucket subjects erase`)');
  remoteOptions(erasureCommand)
    .addHelpText('after', examples('bucket subjects erasure erasure_5b1… --json'))
    .action(showErasure);
}
