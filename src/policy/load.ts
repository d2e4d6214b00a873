/** Loading the shipped default policy (YAML) and hashing policy documents. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import canonicalizeModule from 'canonicalize';
import { parse } from 'yaml';
import type { PolicyDocument, PolicyVersion } from '../domain/policy.js';
import { policyErrors } from './validate.js';

/** The shipped default policy file; resolves the same from src/ (tests) and dist/ (built). */
export const DEFAULT_POLICY_URL = new URL('../../config/default-policy.yaml', import.meta.url);

export class InvalidPolicyError extends Error {
  constructor(
    readonly source: string,
    readonly errors: { path: string; message: string }[],
  ) {
    super(
      `invalid policy in ${source}: ` +
        errors.map((e) => `${e.path || '/'} ${e.message}`).join('; '),
    );
  }
}

export function parsePolicyYaml(text: string, source: string): PolicyDocument {
  const candidate: unknown = parse(text);
  const errors = policyErrors(candidate);
  if (errors.length > 0) throw new InvalidPolicyError(source, errors);
  return candidate as PolicyDocument;
}

export function loadDefaultPolicy(): PolicyDocument {
  return parsePolicyYaml(readFileSync(DEFAULT_POLICY_URL, 'utf8'), DEFAULT_POLICY_URL.pathname);
}

// The package is CommonJS whose typings declare an ES default export; at runtime the default
// import is the function itself.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

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

/** A document (the shipped default unless given) as policy version 1, the first one stored. */
export function defaultPolicyVersion(
  document: PolicyDocument = loadDefaultPolicy(),
  createdAt: string = new Date().toISOString(),
): PolicyVersion {
  return {
    version: 1,
    hash: policyHash(document),
    document,
    reason: 'default policy',
    createdAt,
    createdBy: 'system',
  };
}
