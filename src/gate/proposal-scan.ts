/**
 * What an integration's data schema must not carry (SPEC §5): connection strings and credential
 * material (T1, through the content detectors of src/gate/detectors/), and requests for schema
 * mutation (T2: `$schema_change`, `collection_mutation`, `index_modification`).
 */
import { threat, type Threat } from '../domain/decision.js';
import { detectConnectionStrings, detectCredentials } from './detectors/index.js';

const SCHEMA_MUTATIONS = ['$schema_change', 'collection_mutation', 'index_modification'];
const MAX_DEPTH = 32;

function schemaMutations(value: unknown, path: string, threats: Threat[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    if (SCHEMA_MUTATIONS.includes(value)) {
      threats.push(threat('T2', `dataSchema${path || '/'} asks for "${value}"`));
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => schemaMutations(item, `${path}/${index}`, threats, depth + 1));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (SCHEMA_MUTATIONS.includes(key)) {
      threats.push(threat('T2', `dataSchema${path}/${key} asks for "${key}"`));
    }
    schemaMutations(child, `${path}/${key}`, threats, depth + 1);
  }
}

/** Every T1/T2 finding in a proposed data schema. */
export function schemaThreats(schema: unknown): Threat[] {
  const threats: Threat[] = [
    ...detectConnectionStrings(schema).map((found) => ({
      ...found,
      evidence: `dataSchema: ${found.evidence}`,
    })),
    ...detectCredentials(schema).map((found) => ({
      ...found,
      evidence: `dataSchema: ${found.evidence}`,
    })),
  ];
  schemaMutations(schema, '', threats, 0);
  return threats;
}
