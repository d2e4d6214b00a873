/**
 * T1 — database connection strings in JSON content (SPEC §5): `mongodb://` (and `mongodb+srv://`),
 * `postgres://`, `postgresql://`, `mysql://`, `redis://` (and `rediss://`), `jdbc:<driver>:`.
 * A direct line to a database is a way around the gate.
 */
import type { Threat } from '../../domain/decision.js';
import { detectWith, pointerOf, type Findings, type Visitor } from './walk.js';

export const CONNECTION_STRING =
  /(?<![a-z0-9+.-])(?:mongodb(?:\+srv)?|postgres(?:ql)?|mysql|rediss?):\/\/|(?<![a-z0-9])jdbc:[a-z0-9]+:/i;

/** The scheme of the first connection string in `text`, or null. */
export function connectionStringIn(text: string): string | null {
  if (!text.includes(':')) return null;
  const match = CONNECTION_STRING.exec(text);
  return match ? match[0].replace(/\/\/$/, '').toLowerCase() : null;
}

export function connectionStringVisitor(findings: Findings): Visitor {
  return (node) => {
    if (findings.full || typeof node.value !== 'string') return;
    const scheme = connectionStringIn(node.value);
    if (scheme !== null) {
      findings.add(`${scheme} connection string at ${pointerOf(node) || '/'}`);
    }
  };
}

export function detectConnectionStrings(json: unknown): Threat[] {
  return detectWith(json, connectionStringVisitor, 'T1');
}
