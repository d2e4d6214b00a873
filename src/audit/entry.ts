/**
 * Audit entries (SPEC §6): the decision record (SPEC §4.3) plus where it sits in the log, kept as
 * RFC 8785 (JCS) canonical JSON whose exact bytes are the Merkle leaf.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson, canonicalJsonOf } from '../domain/canonical.js';
import type { Decision } from '../domain/decision.js';
import type { KeyFacts } from '../domain/principal.js';
import type { JsonPatchOperation } from '../policy/diff.js';

/** An entry before the log gives it an index and a time. */
export interface AuditDraft {
  readonly decision: Decision;
  readonly requestId: string;
  /** For an allowed artifact write: the version it created, with its content's digest and size. */
  readonly sha256?: string;
  readonly size?: number;
  readonly version?: number;
  /**
   * For an allowed artifact write: the salted hash of every recorded fact of the version it
   * created (audit/version-facts.ts, SPEC §8).
   */
  readonly facts?: string;
  /** Aggregated 429s: how many requests of this principal this entry stands for (SPEC §4.3). */
  readonly count?: number;
  /** For an allowed policy change: the version it made (SPEC §2 "recorded with its diff"). */
  readonly policy?: PolicyChangeRecord;
  /** For a key created (its facts) or revoked (its id): the key it changed. */
  readonly key?: KeyFacts | KeyRevocation;
  /** For an allowed governance change of SPEC §8: what it changed (a hold, a retention). */
  readonly governance?: GovernanceChangeRecord;
  /** For a purge: the version whose content it removed (SPEC §8, checked by verification). */
  readonly purge?: PurgeClaim;
  /** For a mode switch: the mode it switched to (SPEC §9 "its entry names the new mode"). */
  readonly mode?: ModeChangeRecord;
  /** For an incident opened or resolved: which one (SPEC §9). */
  readonly incident?: IncidentRecord;
  /** For an allowed copy (S3 CopyObject): the version it read, decided with the write. */
  readonly copiedFrom?: CopiedFrom;
}

/**
 * The source of a copy: the version whose content a write copied, its read decided by the gate as
 * part of the write's one decision (decision record 0053).
 */
export interface CopiedFrom {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
  readonly sha256: string;
}

/** What a hold or retention change did: its case reference, scope, reason, values. */
export type GovernanceChangeRecord = Readonly<Record<string, unknown>>;

/**
 * The version a purge removed the content of. A member of its own: the pinned `version` names the
 * version an allowed write created, and verification matches it as such (SPEC §6).
 */
export interface PurgeClaim {
  readonly version: number;
  readonly sha256: string;
  readonly size: number;
  readonly reason: string;
}

export interface KeyRevocation {
  readonly id: string;
  readonly revokedAt: string;
}

export interface ModeChangeRecord {
  readonly mode: string;
  readonly previous: string;
  readonly reason: string;
  readonly incidentId: string | null;
}

export interface IncidentRecord {
  readonly id: string;
  readonly kind: string;
  readonly status: 'open' | 'resolved';
}

/**
 * The policy version a change made, its canonical hash and the JSON Patch (RFC 6902) from the
 * version before. A member of its own: the pinned `version` names an artifact version (SPEC §6).
 */
export interface PolicyChangeRecord {
  readonly version: number;
  readonly hash: string;
  readonly patch: readonly JsonPatchOperation[];
}

export interface AuditEntry extends Decision {
  readonly index: number;
  readonly time: string;
  readonly requestId: string;
  readonly sha256?: string;
  readonly size?: number;
  readonly version?: number;
  readonly facts?: string;
  readonly count?: number;
  readonly policy?: PolicyChangeRecord;
  readonly key?: KeyFacts | KeyRevocation;
  readonly governance?: GovernanceChangeRecord;
  readonly purge?: PurgeClaim;
  readonly mode?: ModeChangeRecord;
  readonly incident?: IncidentRecord;
  readonly copiedFrom?: CopiedFrom;
}

/** What a write answer carries: where its entry sits in the tree (SPEC §6 receipts). */
export interface AuditReceipt {
  readonly leafIndex: number;
  /** Hex. */
  readonly leafHash: string;
}

export function entryOf(draft: AuditDraft, index: number, time: string): AuditEntry {
  // Field by field, not spread: every entry gets the same hidden class (see gate/context.ts).
  const d = draft.decision;
  const entry: { -readonly [K in keyof AuditEntry]: AuditEntry[K] } = {
    id: d.id,
    allow: d.allow,
    status: d.status,
    operation: d.operation,
    principal: d.principal,
    target: d.target,
    reasons: d.reasons,
    threats: d.threats,
    policyVersion: d.policyVersion,
    index,
    time,
    requestId: draft.requestId,
  };
  if (draft.sha256 !== undefined) entry.sha256 = draft.sha256;
  if (draft.size !== undefined) entry.size = draft.size;
  if (draft.version !== undefined) entry.version = draft.version;
  if (draft.facts !== undefined) entry.facts = draft.facts;
  if (draft.count !== undefined) entry.count = draft.count;
  if (draft.policy !== undefined) entry.policy = draft.policy;
  if (draft.key !== undefined) entry.key = draft.key;
  if (draft.governance !== undefined) entry.governance = draft.governance;
  if (draft.purge !== undefined) entry.purge = draft.purge;
  if (draft.mode !== undefined) entry.mode = draft.mode;
  if (draft.incident !== undefined) entry.incident = draft.incident;
  if (draft.copiedFrom !== undefined) entry.copiedFrom = draft.copiedFrom;
  return entry;
}

/** The exact bytes of an entry: its RFC 8785 canonical JSON in UTF-8. */
export function canonicalBytes(entry: AuditEntry): Buffer {
  return Buffer.from(canonicalJson(entry), 'utf8');
}

/**
 * A failure after an allowed decision (a write that could not commit, a governance change that
 * failed): recorded as what happened — never as a success (SPEC §6).
 */
export function failureOf(
  decision: Decision,
  status: number,
  rule: string,
  message: string,
  threats: Decision['threats'] = [],
): Decision {
  return {
    ...decision,
    id: randomUUID(),
    allow: false,
    status,
    reasons: [{ rule, message }],
    threats: [...decision.threats, ...threats],
  };
}

/** Parses stored canonical bytes back into an entry; throws when they are not a JSON object. */
export function parseEntry(canonical: Buffer | string): AuditEntry {
  const text = typeof canonical === 'string' ? canonical : canonical.toString('utf8');
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('an audit entry must be a JSON object');
  }
  return value as AuditEntry;
}

/** A JSON object: what an entry, and every line of an export, must parse to. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Whether `text` is exactly the RFC 8785 (JCS) form of `value`, its parse. Fast path first: JCS
 * output equals JSON.stringify when every object's keys are in code-unit order (numbers and
 * strings serialize alike); anything else is settled by the full canonicalization.
 */
export function isCanonicalJson(value: unknown, text: string): boolean {
  if (keysSorted(value) && JSON.stringify(value) === text) return true;
  return canonicalJsonOf(value) === text;
}

function keysSorted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysSorted);
  if (!isJsonObject(value)) return true;
  let previous: string | undefined;
  for (const key in value) {
    if (previous !== undefined && !(previous < key)) return false;
    if (!keysSorted(value[key])) return false;
    previous = key;
  }
  return true;
}
