/**
 * Drift (SPEC §9): a signed baseline of what the Bucket is — its database schema, its policy, its
 * route table with each route's gate binding, its class schemas — and the live comparison. A
 * difference is `explained` when a mechanism made it (a policy version through the API, a
 * migration run by an upgrade, which records a new baseline); any other difference is drift.
 * Pure: digests of what the stores and the app report, the comparison, the baseline's bytes.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { EventDraft } from './events.js';
import type { PolicyDocument } from './policy.js';

export const DRIFT_COMPONENTS = ['database_schema', 'policy', 'routes', 'class_schemas'] as const;
export type DriftComponent = (typeof DRIFT_COMPONENTS)[number];

export type DriftStatus = 'clean' | 'explained' | 'drifted';

/** One object of the database schema: a table, column, index, trigger, constraint or function. */
export interface SchemaObject {
  readonly type: string;
  readonly name: string;
  /** Its definition as the database reports it (whitespace is normalized before hashing). */
  readonly definition: string;
}

/** One route as registered, with its gate binding and its action's rule (gate/actions.ts). */
export interface RouteBinding {
  readonly method: string;
  readonly url: string;
  readonly binding: string;
  readonly action: string | null;
  /** The action row: kinds, governance, effect, mode class… (null for public and service routes). */
  readonly rule: unknown;
}

/** What a baseline records: a digest per component, and what they were taken from. */
export interface BaselineDocument {
  /** 1 at first start, then one more for each baseline an upgrade records. */
  readonly sequence: number;
  readonly createdAt: string;
  readonly reason: string;
  /** The schema version (migrations applied) and the code version it was taken with. */
  readonly schemaVersion: number;
  readonly codeVersion: string;
  /** The policy version whose hash `components.policy` is. */
  readonly policyVersion: number;
  readonly components: Readonly<Record<DriftComponent, string>>;
}

/** A baseline with its Ed25519 signature (base64) by the audit signing key, over `baselineBytes`. */
export interface DriftBaseline extends BaselineDocument {
  readonly signature: string;
}

export interface DriftCheck {
  readonly component: DriftComponent;
  readonly baseline: string;
  readonly live: string;
  readonly explained: boolean;
  readonly explanation: string | null;
}

/** The bytes a baseline's signature covers: its RFC 8785 canonical JSON, without the signature. */
export function baselineBytes(document: BaselineDocument): Buffer {
  const { sequence, createdAt, reason, schemaVersion, codeVersion, policyVersion, components } =
    document;
  return Buffer.from(
    canonicalJson({
      sequence,
      createdAt,
      reason,
      schemaVersion,
      codeVersion,
      policyVersion,
      components,
    }),
  );
}

function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** The schema's digest: objects sorted, definitions with whitespace collapsed. */
export function schemaDigest(objects: readonly SchemaObject[]): string {
  const normalized = objects
    .map((o) => [o.type, o.name, o.definition.replace(/\s+/gu, ' ').trim()] as const)
    .sort((a, b) => (a.join('\u0000') < b.join('\u0000') ? -1 : 1));
  return digestOf(normalized);
}

/** The route table's digest: every route, its binding and its action's rule, sorted. */
export function routesDigest(routes: readonly RouteBinding[]): string {
  const rows = routes
    .map((r) => [r.method, r.url, r.binding, r.action, r.rule ?? null] as const)
    .sort((a, b) => (`${a[1]} ${a[0]}` < `${b[1]} ${b[0]}` ? -1 : 1));
  return digestOf(rows);
}

/** The class schemas' digest: each class's JSON Schema (null where it has none), by class id. */
export function classSchemasDigest(document: PolicyDocument): string {
  const schemas: Record<string, unknown> = {};
  // A document edited by hand may have lost its classes: that is drift, never a crash.
  const classes: PolicyDocument['classes'] =
    typeof document?.classes === 'object' && document.classes !== null ? document.classes : {};
  for (const id of Object.keys(classes).sort()) {
    schemas[id] = classes[id]?.schema ?? null;
  }
  return digestOf(schemas);
}

/**
 * The status of a set of checks: drifted when a check is unexplained (or the baseline's signature
 * fails), explained when something differs and every difference is, clean otherwise. A component
 * that does not differ is explained (there is nothing to explain).
 */
export function driftStatus(checks: readonly DriftCheck[], signatureValid: boolean): DriftStatus {
  if (!signatureValid || checks.some((check) => !check.explained)) return 'drifted';
  return checks.some((check) => check.baseline !== check.live) ? 'explained' : 'clean';
}

/** The event of a baseline recorded (first start, upgrade): its digests, never the schema itself. */
export function baselineRecorded(baseline: DriftBaseline): EventDraft {
  return {
    type: 'bucket.drift.baseline_recorded',
    subject: `drift/baseline/${baseline.sequence}`,
    product: null,
    data: {
      sequence: baseline.sequence,
      reason: baseline.reason,
      schemaVersion: baseline.schemaVersion,
      codeVersion: baseline.codeVersion,
      policyVersion: baseline.policyVersion,
      components: baseline.components,
    },
  };
}
