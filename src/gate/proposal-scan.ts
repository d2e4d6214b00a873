/**
 * What an integration's data schema must not carry (SPEC §5): connection strings and credential
 * material (T1, through the content detectors of src/gate/detectors/), and requests for schema
 * mutation (T2: `$schema_change`, `collection_mutation`, `index_modification`). One bounded walk
 * feeds them all; a schema the walk cannot read whole is refused (T2), as artifact bodies are:
 * what lies beyond the bounds was never inspected, and an approved schema is stored as it came.
 */
import { threat, type Threat } from '../domain/decision.js';
import { connectionStringVisitor } from './detectors/connection-strings.js';
import { credentialVisitor } from './detectors/credentials.js';
import { Findings, pointerOf, walkJson, WALK_LIMITS, type Visitor } from './detectors/walk.js';

const SCHEMA_MUTATIONS: ReadonlySet<string> = new Set([
  '$schema_change',
  'collection_mutation',
  'index_modification',
]);

/** A member named for a schema mutation, or a string asking for one. */
function schemaMutationVisitor(findings: Findings): Visitor {
  return (node) => {
    if (findings.full) return;
    const member = node.key !== null && node.parent !== null && !Array.isArray(node.parent.value);
    if (member && SCHEMA_MUTATIONS.has(node.key as string)) {
      findings.add(`dataSchema${pointerOf(node)} asks for "${node.key as string}"`);
    }
    if (typeof node.value === 'string' && SCHEMA_MUTATIONS.has(node.value)) {
      findings.add(`dataSchema${pointerOf(node) || '/'} asks for "${node.value}"`);
    }
  };
}

const inSchema = (found: Threat): Threat => ({
  ...found,
  evidence: `dataSchema: ${found.evidence}`,
});

/** Every T1/T2 finding in a proposed data schema. */
export function schemaThreats(schema: unknown): Threat[] {
  const connections = new Findings('T1');
  const credentials = new Findings('T1');
  const mutations = new Findings('T2');
  const walk = walkJson(schema, [
    connectionStringVisitor(connections),
    credentialVisitor(credentials),
    schemaMutationVisitor(mutations),
  ]);
  const bounds = walk.complete
    ? []
    : [
        threat(
          'T2',
          `dataSchema cannot be inspected whole (nested deeper than ${WALK_LIMITS.maxDepth} ` +
            `levels or more than ${WALK_LIMITS.maxNodes} values)`,
        ),
      ];
  return [
    ...connections.threats.map(inSchema),
    ...credentials.threats.map(inSchema),
    ...mutations.threats,
    ...bounds,
  ];
}
