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

/** The reference tokens of a JSON Pointer (RFC 6901 §3–4). */
function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`"${pointer}" is not a JSON Pointer`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function cloneJson<T>(value: T): T {
  return structuredClone(value);
}

/**
 * Applies a patch of the three operations `jsonPatch` makes (RFC 6902 §4.1–4.3) to a copy of
 * `document`; throws when an operation does not apply (a path that does not exist).
 */
export function applyJsonPatch(document: unknown, patch: readonly JsonPatchOperation[]): unknown {
  let root = cloneJson(document);
  for (const operation of patch) {
    const tokens = pointerTokens(operation.path);
    const last = tokens.pop();
    if (last === undefined) {
      if (operation.op === 'remove') throw new Error('cannot remove the whole document');
      root = cloneJson(operation.value);
      continue;
    }
    let parent: unknown = root;
    for (const token of tokens) {
      if (!isObject(parent) && !Array.isArray(parent)) throw new Error(`no ${operation.path}`);
      if (!Object.hasOwn(parent, token)) throw new Error(`no ${operation.path}`);
      parent = (parent as Record<string, unknown>)[token];
    }
    applyAt(parent, last, operation);
  }
  return root;
}

function applyAt(parent: unknown, key: string, operation: JsonPatchOperation): void {
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    const bound = operation.op === 'add' ? parent.length : parent.length - 1;
    if (!/^(0|[1-9][0-9]*)$/.test(key) && key !== '-') throw new Error(`bad index "${key}"`);
    if (index > bound) throw new Error(`index ${key} out of range`);
    if (operation.op === 'remove') parent.splice(index, 1);
    else if (operation.op === 'add') parent.splice(index, 0, cloneJson(operation.value));
    else parent[index] = cloneJson(operation.value);
    return;
  }
  if (!isObject(parent)) throw new Error(`no parent for "${key}"`);
  if (operation.op !== 'add' && !Object.hasOwn(parent, key)) throw new Error(`no member "${key}"`);
  if (operation.op === 'remove') delete parent[key];
  else
    Object.defineProperty(parent, key, {
      value: cloneJson(operation.value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
}
