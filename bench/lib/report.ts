/** The bench's result rows, their targets, and the two ways of printing them (table, JSON). */

/** A target: relative to the bare server's figure, or an absolute bound on the Bucket's. */
export type Target =
  | { readonly kind: 'ratio-at-least'; readonly ratio: number }
  | { readonly kind: 'at-least'; readonly value: number }
  | { readonly kind: 'at-most'; readonly value: number }
  | { readonly kind: 'below'; readonly value: number };

export interface Row {
  readonly name: string;
  readonly unit: string;
  /** null when the measurement failed (see `note`). */
  readonly bucket: number | null;
  /** null when there is no bare counterpart or its measurement failed. */
  readonly bare: number | null;
  /** Rows without a target are for information. */
  readonly target?: Target;
  /** Anything that makes the figure suspect (non-2xx answers, a failed transfer, …). */
  readonly note?: string;
  /** Raw figures behind the row, for `--json`. */
  readonly details?: {
    readonly bucket?: unknown;
    readonly bare?: unknown;
    /** Every round of a measurement taken in rounds (the row reports the median one). */
    readonly rounds?: unknown;
  };
}

export type Verdict = 'pass' | 'FAIL' | 'n/a';

export interface EvaluatedRow extends Row {
  /** bucket ÷ bare. */
  readonly ratio: number | null;
  readonly verdict: Verdict;
}

export function evaluate(row: Row): EvaluatedRow {
  const ratio =
    row.bucket !== null && row.bare !== null && row.bare > 0 ? row.bucket / row.bare : null;
  let verdict: Verdict = 'n/a';
  const target = row.target;
  if (row.bucket === null && row.note !== undefined) {
    verdict = 'FAIL';
  } else if (target !== undefined) {
    // A figure taken over failed requests proves nothing, so a note fails a row with a target.
    const valid = row.note === undefined;
    if (target.kind === 'ratio-at-least') {
      verdict = valid && ratio !== null && ratio >= target.ratio ? 'pass' : 'FAIL';
    } else if (target.kind === 'at-least') {
      verdict = valid && row.bucket !== null && row.bucket >= target.value ? 'pass' : 'FAIL';
    } else if (target.kind === 'at-most') {
      verdict = valid && row.bucket !== null && row.bucket <= target.value ? 'pass' : 'FAIL';
    } else {
      verdict = valid && row.bucket !== null && row.bucket < target.value ? 'pass' : 'FAIL';
    }
  }
  return { ...row, ratio, verdict };
}

export function describeTarget(target: Target | undefined, unit: string): string {
  if (target === undefined) return '—';
  if (target.kind === 'ratio-at-least') return `≥ ${Math.round(target.ratio * 100)} % of bare`;
  if (target.kind === 'at-least') return `≥ ${target.value} ${unit}`;
  if (target.kind === 'at-most') return `≤ ${target.value} ${unit}`;
  return `< ${target.value} ${unit}`;
}

function figure(value: number | null, unit: string): string {
  if (value === null) return '—';
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/** A plain-text table; notes are listed under it. */
export function formatTable(rows: readonly EvaluatedRow[]): string {
  const header = ['measurement', 'bucket', 'bare', 'ratio', 'target', 'result'];
  const lines = rows.map((row) => [
    row.name,
    figure(row.bucket, row.unit),
    figure(row.bare, row.unit),
    row.ratio === null ? '—' : `${(row.ratio * 100).toFixed(0)} %`,
    describeTarget(row.target, row.unit),
    row.note === undefined ? row.verdict : `${row.verdict} *`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)),
  );
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        // Names left-aligned, figures right-aligned so their digits line up.
        return column === 0 || column >= 4 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  const notes = rows
    .filter((row) => row.note !== undefined)
    .map((row) => `* ${row.name}: ${row.note}`);
  return [render(header), rule, ...lines.map(render), ...(notes.length ? ['', ...notes] : [])].join(
    '\n',
  );
}

export function failures(rows: readonly EvaluatedRow[]): EvaluatedRow[] {
  return rows.filter((row) => row.verdict === 'FAIL');
}
