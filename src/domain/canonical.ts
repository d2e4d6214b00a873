/** RFC 8785 (JCS) canonical JSON, the one form every hash over a JSON value is taken of. */
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { PolicyDocument } from './policy.js';

// The package is CommonJS whose typings declare an ES default export; at runtime the default
// import is the function itself.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

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
