/**
 * RFC 8785 (JCS) canonical JSON, the one form every hash over a JSON value is taken of: members
 * sorted by their names' UTF-16 code units, no whitespace, strings and numbers as ECMAScript's
 * JSON.stringify writes them (which RFC 8785 adopts). The same output as the `canonicalize`
 * package (the reference its unit test compares against on generated values), written as loops
 * instead of a reduce of template strings: every audit entry is canonicalized once, on the event
 * loop, and this is the larger part of an entry's cost (decision 0047).
 */
import { createHash } from 'node:crypto';
import type { PolicyDocument } from './policy.js';

/** The canonical JSON of `value`; undefined for what JSON cannot hold at the top level. */
function canonicalize(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (Number.isNaN(value)) throw new Error('NaN is not allowed');
      if (!Number.isFinite(value)) throw new Error('Infinity is not allowed');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      // undefined, a function, a symbol: as JSON.stringify has them (a bigint throws).
      return JSON.stringify(value) as string | undefined;
  }
  const object = value as Record<string, unknown> & { toJSON?: unknown };
  if (typeof object.toJSON === 'function') {
    return canonicalize((object.toJSON as () => unknown).call(object));
  }
  if (Array.isArray(object)) {
    let out = '[';
    for (let i = 0; i < object.length; i++) {
      if (i > 0) out += ',';
      const item: unknown = object[i];
      out += item === undefined || typeof item === 'symbol' ? 'null' : canonicalize(item);
    }
    return `${out}]`;
  }
  const names = Object.keys(object).sort();
  let out = '{';
  let first = true;
  for (const name of names) {
    const member = object[name];
    if (member === undefined || typeof member === 'symbol') continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(name)}:${canonicalize(member)}`;
  }
  return `${out}}`;
}

/** The canonical JSON of a value, or undefined for what JSON cannot hold (undefined, a function). */
export function canonicalJsonOf(value: unknown): string | undefined {
  return canonicalize(value);
}

/** RFC 8785 (JCS) canonical JSON. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value cannot be canonicalized');
  return text;
}

/** The policy hash: SHA-256 (hex) of the RFC 8785 canonical JSON of the document. */
export function policyHash(document: PolicyDocument): string {
  return createHash('sha256').update(canonicalJson(document)).digest('hex');
}
