/**
 * The threat detectors of SPEC §5 that look at what a request carries: each a small pure function
 * in its own file, catalogued here (for `GET /v1/governance/threats` and docs/THREAT_MODEL.md) and
 * run by the gate's identity stage (request fields) and content stage (metadata, JSON body).
 *
 * A finding names its detector, the decision rule it answers to, the threat records, and whether
 * it denies (T7 timestamp claims are only recorded).
 */
import {
  THREAT_NAMES,
  threat,
  type Reason,
  type Severity,
  type Threat,
  type ThreatId,
} from '../../domain/decision.js';
import type { ClassRule } from '../../domain/policy.js';
import { detectBypassParams } from './bypass-params.js';
import { connectionStringVisitor } from './connection-strings.js';
import { credentialVisitor } from './credentials.js';
import { detectContentClaims, detectRequestClaims } from './identity-claims.js';
import { injectionVisitor } from './injection.js';
import { piiVisitor } from './pii.js';
import { detectReservedMembers, detectReservedMeta } from './reserved-fields.js';
import { detectRetentionClaim } from './retention-claims.js';
import { detectContentTimestamps, detectMetaTimestamps } from './timestamp-claims.js';
import { Findings, WALK_LIMITS, walkJson, type Visitor } from './walk.js';

export type DetectorId =
  | 'identity-claims'
  | 'bypass-params'
  | 'credentials'
  | 'connection-strings'
  | 'reserved-fields'
  | 'injection'
  | 'pii'
  | 'retention-claims'
  | 'timestamp-claims'
  | 'inspection-bounds';

export interface DetectorInfo {
  readonly id: DetectorId;
  readonly threat: ThreatId;
  /** The threat's name (SPEC §5). */
  readonly name: string;
  readonly severity: Severity;
  /** What it detects, in a sentence. */
  readonly detects: string;
  /** The rule a denial carries in the decision record's reasons. */
  readonly rule: string;
  /** `deny` (403 forbidden) or `flag` (recorded in the decision, never a denial by itself). */
  readonly response: 'deny' | 'flag';
  /** The gate stage that runs it. */
  readonly stage: 'identity' | 'content';
  /** Its source file, under src/gate/detectors/. */
  readonly file: string;
}

function info(
  id: DetectorId,
  threatId: ThreatId,
  fields: Omit<DetectorInfo, 'id' | 'threat' | 'name' | 'severity' | 'file'>,
): DetectorInfo {
  const file = id === 'inspection-bounds' ? 'walk.ts' : `${id}.ts`;
  return { id, threat: threatId, ...THREAT_NAMES[threatId], ...fields, file };
}

/** The catalogue of request and content detectors. */
export const DETECTORS: readonly DetectorInfo[] = [
  info('identity-claims', 'T1', {
    detects:
      "product, product_id, productId or owner_id naming another product than the key's: in " +
      'x-bucket-meta-* headers or the query string (product-scoped keys), in top-level JSON ' +
      'members (product and ai_agent keys); T4 when one claim names several products (",")',
    rule: 'identity_claim',
    response: 'deny',
    stage: 'identity',
  }),
  info('bypass-params', 'T4', {
    detects:
      'query parameters or headers named like bypass, override, skip_audit, no_audit or emergency',
    rule: 'bypass_attempt',
    response: 'deny',
    stage: 'identity',
  }),
  info('credentials', 'T1', {
    detects:
      'JSON members named like password, secret, token, api_key or private_key holding a ' +
      'non-empty string; AWS access key ids (AKIA…); PEM private key headers',
    rule: 'credential_material',
    response: 'deny',
    stage: 'content',
  }),
  info('connection-strings', 'T1', {
    detects:
      'database connection strings in JSON strings: mongodb://, mongodb+srv://, postgres://, ' +
      'postgresql://, mysql://, redis://, rediss://, jdbc:<driver>:',
    rule: 'connection_string',
    response: 'deny',
    stage: 'content',
  }),
  info('reserved-fields', 'T2', {
    detects:
      'server-managed fields set by the client: top-level JSON members beginning with "_", ' +
      'x-bucket-meta-sha256, -version, -created-by, -created-at',
    rule: 'reserved_field',
    response: 'deny',
    stage: 'content',
  }),
  info('injection', 'T2', {
    detects:
      'Mongo-style operator members ($where, $set, …; JSON Schema keywords excepted) and ' +
      '__proto__, constructor, prototype members at any depth',
    rule: 'injection_pattern',
    response: 'deny',
    stage: 'content',
  }),
  info('inspection-bounds', 'T2', {
    detects: `JSON content nested deeper than ${WALK_LIMITS.maxDepth} levels or with more than ${WALK_LIMITS.maxNodes} values, which the detectors cannot inspect whole`,
    rule: 'content_inspection',
    response: 'deny',
    stage: 'content',
  }),
  info('pii', 'T6', {
    detects:
      'e-mail addresses, phone numbers and Luhn-valid payment card numbers in JSON content of ' +
      'classes marked piiFree in the policy (persona_config, monetization_marker)',
    rule: 'pii_in_pii_free_class',
    response: 'deny',
    stage: 'content',
  }),
  info('retention-claims', 'T6', {
    detects:
      'x-bucket-meta-retention holding an ISO-8601 duration shorter than the class retention',
    rule: 'retention_claim',
    response: 'deny',
    stage: 'content',
  }),
  info('timestamp-claims', 'T7', {
    detects:
      'timestamp or created_at in x-bucket-meta-* headers or top-level JSON members older than ' +
      '300 s or in the future: recorded as claims, never as facts',
    rule: 'timestamp_claim',
    response: 'flag',
    stage: 'content',
  }),
];

const BY_ID = new Map(DETECTORS.map((detector) => [detector.id, detector]));

export interface Finding {
  readonly detector: DetectorInfo;
  readonly threats: Threat[];
}

/** One reason per denying detector that found something: its rule and its first evidence. */
export function denialReasons(found: readonly Finding[]): Reason[] {
  return found
    .filter((finding) => finding.detector.response === 'deny')
    .map((finding) => {
      const first = finding.threats[0]?.evidence ?? '';
      const more = finding.threats.length > 1 ? ` (and ${finding.threats.length - 1} more)` : '';
      const prefix =
        finding.detector.rule === 'identity_claim' ? 'identity comes only from the key: ' : '';
      return { rule: finding.detector.rule, message: `${prefix}${first}${more}` };
    });
}

function findings(results: [DetectorId, Threat[]][]): Finding[] {
  const found: Finding[] = [];
  for (const [id, threats] of results) {
    if (threats.length > 0) found.push({ detector: BY_ID.get(id) as DetectorInfo, threats });
  }
  return found;
}

export interface RequestFields {
  /** The caller's product for product-scoped keys; null for keys with no product claims to check. */
  readonly ownProduct: string | null;
  readonly meta: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Names of the request headers (lower-case). */
  readonly headerNames: readonly string[];
}

/** Stage 1: identity claims and bypass attempts in any request. */
export function scanRequest(fields: RequestFields): Finding[] {
  return findings([
    [
      'identity-claims',
      fields.ownProduct === null
        ? []
        : detectRequestClaims(fields.meta, fields.query, fields.ownProduct),
    ],
    ['bypass-params', detectBypassParams(Object.keys(fields.query), fields.headerNames)],
  ]);
}

/** Stage 5, before the body: what a write's `x-bucket-meta-*` headers claim. */
export function scanMeta(
  meta: Readonly<Record<string, string>>,
  rule: ClassRule,
  now: number,
): Finding[] {
  // Most writes carry no meta headers: nothing for these detectors to find.
  if (isEmpty(meta)) return [];
  return findings([
    ['reserved-fields', detectReservedMeta(meta)],
    ['retention-claims', detectRetentionClaim(meta, rule.retention)],
    ['timestamp-claims', detectMetaTimestamps(meta, now)],
  ]);
}

function isEmpty(record: Readonly<Record<string, string>>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
  return true;
}

export interface ContentOptions {
  readonly ownProduct: string | null;
  /** Whether the class must be free of personal data. */
  readonly piiFree: boolean;
  readonly now: number;
}

/** Stage 5, on the parsed JSON body: one bounded walk feeds every content detector. */
export function scanJsonContent(json: unknown, options: ContentOptions): Finding[] {
  const credentials = new Findings('T1');
  const connections = new Findings('T1');
  const injection = new Findings('T2');
  const pii = new Findings('T6');
  const visitors: Visitor[] = [
    credentialVisitor(credentials),
    connectionStringVisitor(connections),
    injectionVisitor(injection),
  ];
  if (options.piiFree) visitors.push(piiVisitor(pii));
  const walk = walkJson(json, visitors);
  const bounds = walk.complete
    ? []
    : [threat('T2', `content exceeds the inspection bounds after ${walk.nodes} values`)];
  return findings([
    [
      'identity-claims',
      options.ownProduct === null ? [] : detectContentClaims(json, options.ownProduct),
    ],
    ['credentials', credentials.threats],
    ['connection-strings', connections.threats],
    ['reserved-fields', detectReservedMembers(json)],
    ['injection', injection.threats],
    ['inspection-bounds', bounds],
    ['pii', pii.threats],
    ['timestamp-claims', detectContentTimestamps(json, options.now)],
  ]);
}

export { detectBypassParams } from './bypass-params.js';
export { detectConnectionStrings } from './connection-strings.js';
export { detectCredentials } from './credentials.js';
export { detectContentClaims, detectFieldClaims, detectRequestClaims } from './identity-claims.js';
export { detectInjection } from './injection.js';
export { detectPii } from './pii.js';
export { detectReservedMembers, detectReservedMeta } from './reserved-fields.js';
export { detectRetentionClaim } from './retention-claims.js';
export { detectContentTimestamps, detectMetaTimestamps } from './timestamp-claims.js';
