/** Loading the shipped default policy (YAML); its hash (domain/canonical.ts). */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { policyHash } from '../domain/canonical.js';
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
