/** The policy document model (SPEC §2). The pinned field names are the document's own. */

export const OPERATIONS = ['CREATE', 'READ', 'UPDATE', 'DELETE'] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * How a class's content is typed: `json` (a JSON object), `binary` (any bytes), `system` (written
 * by the Bucket itself), `virtual` (not stored as artifacts), or a list of accepted media types.
 */
export type ContentRule = 'json' | 'binary' | 'system' | 'virtual' | string[];

export interface RetentionRule {
  readonly mode: 'compliance' | 'governance' | 'none';
  /** ISO-8601 duration (`P1Y`, `P7Y`), or null for permanent. */
  readonly period: string | null;
  /**
   * SPEC §8: the current version's content is purged too once its retention ends — data that must
   * not outlive its period. Absent: false (only superseded or long-tombstoned versions are).
   */
  readonly expire?: boolean;
}

export interface ClassRule {
  readonly content: ContentRule;
  readonly operations: Operation[];
  /** null for virtual classes that hold no stored content. */
  readonly maxBytes: number | null;
  /** An optional JSON Schema that JSON content of this class must satisfy. */
  readonly schema: Record<string, unknown> | null;
  readonly retention: RetentionRule;
  /** True where content must carry no personal data (SPEC §5 T6). */
  readonly piiFree?: boolean;
  /** True where the policy grants auditor keys this class's content (SPEC §1); absent: no. */
  readonly auditorContent?: boolean;
}

export interface ProductRule {
  readonly displayName: string;
  readonly allowedClasses: string[];
  readonly forbiddenClasses: string[];
  readonly quotaBytes: number;
  readonly maxArtifacts: number;
  readonly readOnly: boolean;
  /** Optional share of the global write rate (SPEC §2.3 "per-product shares"); absent: no share. */
  readonly writesPerSecond?: number;
  /** Optional share of the global read rate; absent: no share. */
  readonly readsPerSecond?: number;
}

export interface Limits {
  readonly maxArtifactBytes: number;
  readonly writesPerSecond: number;
  readonly readsPerSecond: number;
  readonly concurrentWrites: number;
  readonly maxBatch: number;
  readonly maxArtifacts: number;
  readonly storageCapacityBytes: number;
  readonly listPageMax: number;
  /** One product's share of `concurrentWrites` (SPEC §2.3); default WRITE_SHARE_DEFAULT. */
  readonly productWriteShare?: number;
  /** Uploads slower than this on average over 10 s are cut (408); 0 never cuts. */
  readonly minUploadBytesPerSecond?: number;
  /** SPEC §15: artifact work is shed (503 `overloaded`) while the event-loop delay is above it. */
  readonly maxEventLoopDelayMs?: number;
  /** Runs of Core executing at once per Bucket (SPEC §11); default 8. */
  readonly concurrentRuns?: number;
  /** Runs waiting `queued` at most; more are refused with 429 (SPEC §11); default 1,000. */
  readonly queuedRuns?: number;
}

export const WRITE_SHARE_DEFAULT = 0.5;
export const MIN_UPLOAD_BYTES_PER_SECOND_DEFAULT = 1024;
export const MAX_EVENT_LOOP_DELAY_MS_DEFAULT = 200;

/** The latency limit in milliseconds (a policy stored before it existed: the default). */
export function maxEventLoopDelayOf(limits: Limits): number {
  return limits.maxEventLoopDelayMs ?? MAX_EVENT_LOOP_DELAY_MS_DEFAULT;
}

/** The minimum upload rate in bytes per second (0: none). */
export function minUploadRateOf(limits: Limits): number {
  return limits.minUploadBytesPerSecond ?? MIN_UPLOAD_BYTES_PER_SECOND_DEFAULT;
}

/** The write slots one product may hold at once: its share of `concurrentWrites`, at least 1. */
export function productWriteSlots(limits: Limits): number {
  const share = limits.productWriteShare ?? WRITE_SHARE_DEFAULT;
  return Math.max(1, Math.floor(share * limits.concurrentWrites));
}

/** SPEC §5 escalation: this many requests with a CRITICAL detection within the window suspend a key. */
export interface EscalationRule {
  readonly criticalRequests: number;
  readonly windowSeconds: number;
}

export const ESCALATION_DEFAULTS: EscalationRule = { criticalRequests: 3, windowSeconds: 3600 };

export interface PolicyDocument {
  readonly products: Record<string, ProductRule>;
  readonly classes: Record<string, ClassRule>;
  readonly rejectedClasses: string[];
  readonly limits: Limits;
  /** Optional: when CRITICAL detections suspend a key (SPEC §5); defaults in ESCALATION_DEFAULTS. */
  readonly escalation?: EscalationRule;
  /**
   * Optional (SPEC §11): the addresses outgoing requests (webhooks, http agents) may reach though
   * they are not globally routable; absent means none (domain/egress.ts).
   */
  readonly egress?: { readonly allow: readonly string[] };
}

/** A policy document as stored: versioned and hashed. */
export interface PolicyVersion {
  readonly version: number;
  readonly hash: string;
  readonly document: PolicyDocument;
  readonly reason: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

export function classAcceptsJsonOnly(rule: ClassRule): boolean {
  return rule.content === 'json' || rule.content === 'system';
}

/**
 * The rule a policy record holds under `id` — an own member only: ids come from requests, and
 * `__proto__`, `constructor` or `toString` must name nothing rather than Object.prototype's own.
 */
export function ruleOf<T>(rules: Readonly<Record<string, T>>, id: string): T | undefined {
  return Object.hasOwn(rules, id) ? rules[id] : undefined;
}

/** Levenshtein distance between two short ids (class names), for "did you mean". */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The id among `known` a misspelt `id` most likely meant (a few edits away), or null; ties go to
 * the earlier of `known`, so callers list the likelier candidates first.
 */
export function closestId(id: string, known: readonly string[]): string | null {
  const allowed = Math.max(2, Math.floor(id.length / 4));
  let best: { id: string; distance: number } | null = null;
  for (const candidate of known) {
    const distance = editDistance(id, candidate);
    if (distance <= allowed && (best === null || distance < best.distance)) {
      best = { id: candidate, distance };
    }
  }
  return best?.id ?? null;
}
