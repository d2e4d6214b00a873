/**
 * `bucket subjects export SUBJECT [--out FILE]`: a data subject's access export (SPEC §8 DSAR,
 * GDPR Art. 15), NDJSON streamed to stdout or to a file (mode 0600: it holds the subject's
 * personal data). An export without its summary line was cut short: the command fails and removes
 * the file it was writing.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { PRIVATE_FILE_MODE } from '../../storage/private-files.js';
import { CliError } from '../errors.js';
import { note } from '../output.js';
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
}
