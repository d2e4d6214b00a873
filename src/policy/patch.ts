/**
 * RFC 6902 patches on the policy document as requested by an exception: all six operations
 * (`move` and `copy` as a read then `add`/`remove`, `test` as a comparison), applied to a copy.
 * Errors name the operation; nothing is applied when one fails.
 */
import { canonicalJson } from '../domain/canonical.js';
import { walkJson, WALK_LIMITS } from '../gate/detectors/walk.js';
import { applyJsonPatch, type JsonPatchOperation } from './diff.js';

export interface PatchError {
  readonly path: string;
  readonly message: string;
}

type Result = { readonly document: unknown } | { readonly errors: PatchError[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function valueAt(document: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: document };
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isRecord(node) && !Array.isArray(node)) return { found: false };
    if (!Object.hasOwn(node, token)) return { found: false };
    node = (node as Record<string, unknown>)[token];
  }
  return { found: true, value: node };
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** One requested operation as the add/remove/replace operations diff.ts applies, or an error. */
function lower(op: unknown, document: unknown, at: string): JsonPatchOperation[] | string {
  if (!isRecord(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
    return 'an operation needs "op" and "path" strings';
  }
  if (op.path !== '' && !op.path.startsWith('/')) return `"${op.path}" is not a JSON Pointer`;
  const needsValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
  if (needsValue && !Object.hasOwn(op, 'value')) return `"${op.op}" needs a "value"`;
  // Comparing or storing a value walks it recursively: nesting past the content bounds would
  // overflow the stack (a 500) where it is the request that is wrong.
  if (Object.hasOwn(op, 'value') && !walkJson(op.value, () => undefined).complete) {
    return `"value" is nested deeper than ${WALK_LIMITS.maxDepth} levels or holds more than ${WALK_LIMITS.maxNodes} values`;
  }
  switch (op.op) {
    case 'add':
    case 'replace':
      return [{ op: op.op, path: op.path, value: op.value }];
    case 'remove':
      return [{ op: 'remove', path: op.path }];
    case 'test': {
      const found = valueAt(document, op.path);
      return found.found && same(found.value, op.value) ? [] : `test failed at ${at}`;
    }
    case 'move':
    case 'copy': {
      if (typeof op.from !== 'string') return `"${op.op}" needs a "from" pointer`;
      const found = valueAt(document, op.from);
      if (!found.found) return `no value at "${op.from}"`;
      const add: JsonPatchOperation = { op: 'add', path: op.path, value: found.value };
      return op.op === 'copy' ? [add] : [{ op: 'remove', path: op.from }, add];
    }
    default:
      return `unknown operation "${String(op.op)}"`;
  }
}

/** Applies `patch` to a copy of `document`, operation by operation (RFC 6902 §3: all or none). */
export function applyRequestedPatch(document: unknown, patch: readonly unknown[]): Result {
  let current = document;
  for (const [index, op] of patch.entries()) {
    const at = `/patch/${index}`;
    const lowered = lower(op, current, at);
    if (typeof lowered === 'string') return { errors: [{ path: at, message: lowered }] };
    try {
      current = applyJsonPatch(current, lowered);
    } catch (error) {
      return { errors: [{ path: at, message: (error as Error).message }] };
    }
  }
  return { document: current };
}

/** The value at `pointer` in `document`, for the revert's check of what the owner changed since. */
export { valueAt, same as sameJson };
