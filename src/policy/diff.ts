/**
 * The difference between two policy documents as JSON Pointer (RFC 6901) changes: what each new
 * policy version added, removed or replaced. Objects are compared member by member (in sorted
 * order, so the diff is deterministic), arrays element by element; anything else by value. The
 * same changes as a JSON Patch (RFC 6902) for the audit entry of a policy change.
 */

export interface PolicyChange {
  readonly op: 'add' | 'remove' | 'replace';
  /** JSON Pointer of the changed value in the documents. */
  readonly path: string;
  /** The old value (remove, replace). */
  readonly from?: unknown;
  /** The new value (add, replace). */
  readonly to?: unknown;
}

function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function diffInto(from: unknown, to: unknown, path: string, changes: PolicyChange[]): void {
  if (isObject(from) && isObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    for (const key of keys) {
      const child = `${path}/${escape(key)}`;
      const inFrom = Object.hasOwn(from, key);
      const inTo = Object.hasOwn(to, key);
      if (inFrom && !inTo) changes.push({ op: 'remove', path: child, from: from[key] });
      else if (!inFrom && inTo) changes.push({ op: 'add', path: child, to: to[key] });
      else diffInto(from[key], to[key], child, changes);
    }
    return;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const shared = Math.min(from.length, to.length);
    for (let i = 0; i < shared; i++) diffInto(from[i], to[i], `${path}/${i}`, changes);
    // Removals from the end first, so that applying the changes in order keeps indices valid.
    for (let i = from.length - 1; i >= shared; i--) {
      changes.push({ op: 'remove', path: `${path}/${i}`, from: from[i] });
    }
    for (let i = shared; i < to.length; i++) {
      changes.push({ op: 'add', path: `${path}/${i}`, to: to[i] });
    }
    return;
  }
  // Scalars by value; an object against an array or a scalar is replaced whole.
  if (from !== to) changes.push({ op: 'replace', path, from, to });
}

/** The changes that turn `from` into `to`; empty when they are equal. */
export function diffDocuments(from: unknown, to: unknown): PolicyChange[] {
  const changes: PolicyChange[] = [];
  diffInto(from, to, '', changes);
  return changes;
}

/** An RFC 6902 operation of the three a diff needs. */
export type JsonPatchOperation =
  | { readonly op: 'add' | 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

/**
 * The JSON Patch (RFC 6902) that turns `from` into `to`: the changes of `diffDocuments`, in their
 * order (array elements removed from the end, then added at the end, so indices stay valid).
 */
export function jsonPatch(from: unknown, to: unknown): JsonPatchOperation[] {
  return diffDocuments(from, to).map((change) =>
    change.op === 'remove'
      ? { op: 'remove', path: change.path }
      : { op: change.op, path: change.path, value: change.to },
  );
}
