/**
 * A structural diff of two JSON documents as JSON Pointer changes, the shape the Bucket answers
 * for a policy version's diff (`GET /v1/governance/policy/versions/{n}`): objects are compared
 * member by member, anything else (arrays too) is replaced whole.
 */
export interface Change {
  op: 'add' | 'remove' | 'replace';
  path: string;
  from?: unknown;
  to?: unknown;
}

const pointer = (path: string, key: string) =>
  `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function diff(before: unknown, after: unknown, path = ''): Change[] {
  if (isObject(before) && isObject(after)) {
    const changes: Change[] = [];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) {
      if (!Object.hasOwn(after, key))
        changes.push({ op: 'remove', path: pointer(path, key), from: before[key] });
      else if (!Object.hasOwn(before, key))
        changes.push({ op: 'add', path: pointer(path, key), to: after[key] });
      else changes.push(...diff(before[key], after[key], pointer(path, key)));
    }
    return changes;
  }
  return JSON.stringify(before) === JSON.stringify(after)
    ? []
    : [{ op: 'replace', path: path || '/', from: before, to: after }];
}

export function describeChange(change: Change): string {
  const show = (value: unknown) => JSON.stringify(value);
  if (change.op === 'add') return `+ ${change.path} = ${show(change.to)}`;
  if (change.op === 'remove') return `- ${change.path} (was ${show(change.from)})`;
  return `~ ${change.path}: ${show(change.from)} → ${show(change.to)}`;
}
