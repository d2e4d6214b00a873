/**
 * Whether a JSON Schema refers to itself without end: a chain of `$ref`s and in-place applicators
 * (`allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`) that comes back to
 * where it started without descending into the data (`properties`, `items`, …). Validating any
 * value that reaches such a schema recurses until the stack overflows, so a class schema with one
 * is refused when it is given (src/policy/validate.ts) — wherever it sits, not only at the top,
 * which probing with a few values finds. Only local references (`#…`) are followed.
 */

type Node = Record<string, unknown>;

const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const IN_PLACE_ONE = ['not', 'if', 'then', 'else'];
const IN_PLACE_MANY = ['allOf', 'anyOf', 'oneOf'];

/** The node a local reference (`#`, `#/a/b`) points at in `root`, or null. */
function resolve(root: Node, ref: string): Node | null {
  if (!ref.startsWith('#')) return null;
  let pointer: string;
  try {
    pointer = decodeURIComponent(ref.slice(1));
  } catch {
    return null;
  }
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) return null;
  let at: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(at)) at = at[Number(segment)];
    else if (isNode(at) && Object.hasOwn(at, segment)) at = at[segment];
    else return null;
  }
  return isNode(at) ? at : null;
}

/** The schemas that apply to the same instance as `node`. */
function inPlace(root: Node, node: Node): Node[] {
  const next: Node[] = [];
  for (const key of ['$ref', '$dynamicRef']) {
    const ref = node[key];
    const target = typeof ref === 'string' ? resolve(root, ref) : null;
    if (target) next.push(target);
  }
  for (const key of IN_PLACE_ONE) if (isNode(node[key])) next.push(node[key] as Node);
  for (const key of IN_PLACE_MANY) {
    const list = node[key];
    if (Array.isArray(list)) next.push(...list.filter(isNode));
  }
  const dependent = node['dependentSchemas'];
  if (isNode(dependent)) next.push(...Object.values(dependent).filter(isNode));
  return next;
}

/** Every object in the document (schemas and the rest: extra nodes are harmless). */
function allNodes(root: unknown): Node[] {
  const found: Node[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) stack.push(...value);
    else if (isNode(value)) {
      found.push(value);
      stack.push(...Object.values(value));
    }
  }
  return found;
}

/** True when some schema of `root` reaches itself through in-place applicators alone. */
export function hasInPlaceCycle(root: unknown): boolean {
  if (!isNode(root)) return false;
  const state = new Map<Node, 'open' | 'done'>();
  for (const start of allNodes(root)) {
    if (state.has(start)) continue;
    // Iterative depth-first search: a node met again while open closes a cycle.
    const path: { node: Node; next: Node[] }[] = [{ node: start, next: inPlace(root, start) }];
    state.set(start, 'open');
    while (path.length > 0) {
      const top = path[path.length - 1] as { node: Node; next: Node[] };
      const child = top.next.pop();
      if (child === undefined) {
        state.set(top.node, 'done');
        path.pop();
      } else if (state.get(child) === 'open') {
        return true;
      } else if (!state.has(child)) {
        state.set(child, 'open');
        path.push({ node: child, next: inPlace(root, child) });
      }
    }
  }
  return false;
}
