/** How the `bucket` command talks to people: text tables, JSON, and error reports on stderr. */
import { ServerError } from './client.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE, UsageError } from './errors.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 'B';
  for (const next of UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  }
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
        .join('  '),
    )
    .join('\n');
}

/** `details.errors` of an answer naming each problem by JSON Pointer (e.g. `invalid_policy`). */
function pathErrors(details: unknown): { path: string; message: string }[] {
  const errors = (details as { errors?: unknown } | null | undefined)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.filter(
    (item): item is { path: string; message: string } =>
      typeof (item as { path?: unknown } | null)?.path === 'string' &&
      typeof (item as { message?: unknown }).message === 'string',
  );
}

function serverErrorReport(error: ServerError): string[] {
  const { envelope } = error;
  const request = envelope.requestId ? ` (request ${envelope.requestId})` : '';
  const lines = [`bucket: ${envelope.code}: ${envelope.message}${request}`];
  // The message names only the first few; every one is listed here.
  for (const problem of pathErrors(envelope.details)) {
    lines.push(`  error: ${problem.path || '/'}: ${problem.message}`);
  }
  const decision = envelope.decision;
  if (decision) {
    for (const reason of decision.reasons ?? []) {
      lines.push(`  reason: ${reason.rule}: ${reason.message}`);
    }
    for (const threat of decision.threats ?? []) {
      lines.push(`  threat: ${threat.id} ${threat.name} (${threat.severity}): ${threat.evidence}`);
    }
    lines.push(`  decision ${decision.id} under policy v${decision.policyVersion}`);
  }
  if (error.retryAfter !== undefined) lines.push(`  retry after ${error.retryAfter} s`);
  if (error.status === 401) {
    lines.push('  check BUCKET_KEY: the key is missing, unknown, revoked or expired');
  }
  for (const hint of error.hints) lines.push(`  hint: ${hint}`);
  return lines;
}

/**
 * Writes what went wrong to stderr and returns the exit code. In JSON mode the server's error
 * answer is also printed on stdout, so scripts read one JSON document either way.
 */
export function reportError(error: unknown, json = false): number {
  if (error instanceof ServerError) {
    if (json) printJson({ error: error.envelope });
    note(serverErrorReport(error).join('\n'));
    return EXIT_FAILURE;
  }
  if (error instanceof UsageError) {
    note(`bucket: ${error.message}`);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  note(`bucket: ${message}`);
  return error instanceof CliError ? error.exitCode : EXIT_FAILURE;
}
