/**
 * `bucket put --batch FILE.ndjson`: many writes and deletes in `POST /v1/batch` requests (SPEC
 * §15), one item per line. A file longer than a batch is sent in batches of `--batch-size`
 * items (a progress bar on a terminal); `--atomic` sends it as one atomic batch — all of it, or
 * nothing. Prints each failed item with its line; exits 1 when any item failed.
 */
import { readFile } from 'node:fs/promises';
import { CliError, UsageError } from '../errors.js';
import { errorAnswer, readJson, type ErrorEnvelope } from '../client.js';
import { formatTable, printJson, printLine } from '../output.js';
import { terminalBar } from '../progress.js';
import { connect, type RemoteOptions } from '../remote.js';

export interface BatchOptions extends RemoteOptions {
  readonly atomic?: boolean;
  readonly batchSize?: number;
}

interface ItemResult {
  readonly index: number;
  readonly status: number;
  readonly artifact?: { product: string; class: string; name: string; version: number };
  readonly error?: ErrorEnvelope;
}

interface BatchAnswer {
  readonly items: readonly ItemResult[];
  readonly summary: { readonly succeeded: number; readonly failed: number };
}

/** SPEC §15's default `limits.maxBatch`. */
export const DEFAULT_BATCH_SIZE = 500;

async function readLines(file: string): Promise<string[]> {
  let text: string;
  try {
    text =
      file === '-'
        ? Buffer.concat(await process.stdin.toArray()).toString('utf8')
        : await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0) throw new UsageError(`${file} holds no items (one JSON object a line)`);
  return lines;
}

export async function putBatch(file: string, options: BatchOptions): Promise<void> {
  if (options.batchSize !== undefined && options.batchSize < 1) {
    throw new UsageError('--batch-size must be at least 1');
  }
  const lines = await readLines(file);
  const size = options.atomic ? lines.length : (options.batchSize ?? DEFAULT_BATCH_SIZE);
  const client = connect(options);
  const bar = options.json
    ? null
    : lines.length > size
      ? terminalBar(process.stderr, 'batch [{bar}] {value}/{total} items')
      : null;
  bar?.start(lines.length, 0);
  const results: ItemResult[] = [];
  try {
    for (let start = 0; start < lines.length; start += size) {
      const chunk = lines.slice(start, start + size);
      const answer = await sendBatch(client, chunk, options.atomic === true);
      results.push(...answer.items.map((item) => ({ ...item, index: item.index + start })));
      bar?.update(start + chunk.length);
    }
  } finally {
    bar?.stop();
  }
  const failed = results.filter((result) => result.error !== undefined);
  const summary = { succeeded: results.length - failed.length, failed: failed.length };
  if (options.json) printJson({ items: results, summary });
  else report(results, failed, summary, options.atomic === true);
  if (failed.length > 0) {
    throw new CliError(
      options.atomic
        ? 'the atomic batch wrote nothing: fix the failed item and send the file again'
        : `${failed.length} of ${results.length} items failed (the others were written)`,
    );
  }
}

async function sendBatch(
  client: ReturnType<typeof connect>,
  lines: readonly string[],
  atomic: boolean,
): Promise<BatchAnswer> {
  try {
    const response = await client.send('POST', '/v1/batch', {
      headers: { 'content-type': 'application/x-ndjson' },
      query: atomic ? { atomic: 'true' } : {},
      body: `${lines.join('\n')}\n`,
    });
    return await readJson<BatchAnswer>(response);
  } catch (error) {
    // An atomic batch that failed answers 409 with the items' results, not an error envelope.
    const answer = errorAnswer<BatchAnswer>(error, 409, (body) => Array.isArray(body.items));
    if (answer) return answer;
    throw error;
  }
}

function report(
  results: readonly ItemResult[],
  failed: readonly ItemResult[],
  summary: BatchAnswer['summary'],
  atomic: boolean,
): void {
  if (failed.length > 0) {
    const rows = failed.map((item) => [
      String(item.index + 1),
      String(item.status),
      item.error?.code ?? '',
      item.error?.message ?? '',
    ]);
    printLine(formatTable([['LINE', 'STATUS', 'CODE', 'MESSAGE'], ...rows]));
  }
  const written = atomic && failed.length > 0 ? 0 : summary.succeeded;
  printLine(`${written} of ${results.length} items written, ${summary.failed} failed`);
}
