/**
 * T2 — injection patterns in JSON content (SPEC §5): Mongo-style operator members (`$where`,
 * `$set`, …) and prototype-pollution members (`__proto__`, `constructor`, `prototype`), at any
 * depth. JSON Schema's own `$` keywords (`$schema`, `$ref`, …) are not operators: agent specs
 * carry JSON Schemas (SPEC §11).
 */
import type { Threat } from '../../domain/decision.js';
import { detectWith, pointerOf, type Findings, type Visitor } from './walk.js';

const JSON_SCHEMA_KEYWORDS = new Set([
  '$schema',
  '$id',
  '$ref',
  '$defs',
  '$comment',
  '$anchor',
  '$dynamicRef',
  '$dynamicAnchor',
  '$vocabulary',
  '$recursiveRef',
  '$recursiveAnchor',
]);

export const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a member name is an injection pattern, or null. */
export function injectionIn(name: string): string | null {
  if (PROTOTYPE_KEYS.has(name)) return `prototype-pollution member "${name}"`;
  if (name.startsWith('$') && !JSON_SCHEMA_KEYWORDS.has(name)) {
    return `operator member "${name}"`;
  }
  return null;
}

export function injectionVisitor(findings: Findings): Visitor {
  return (node) => {
    if (findings.full || node.key === null || node.parent === null) return;
    if (Array.isArray(node.parent.value)) return;
    const pattern = injectionIn(node.key);
    if (pattern !== null) findings.add(`${pattern} at ${pointerOf(node)}`);
  };
}

export function detectInjection(json: unknown): Threat[] {
  return detectWith(json, injectionVisitor, 'T2');
}
