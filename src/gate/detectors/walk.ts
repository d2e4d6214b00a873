/**
 * A bounded walk over a parsed JSON value, shared by the content detectors (SPEC §5). Iterative
 * (no recursion to overflow) and capped in depth and node count, so that a hostile document
 * cannot stall the gate: what the walk could not reach is reported as `complete: false`, and the
 * content stage refuses content it could not inspect whole.
 */
import { threat, type Threat, type ThreatId } from '../../domain/decision.js';

export interface WalkLimits {
  /** Containers nested deeper than this are not entered. */
  readonly maxDepth: number;
  /** The walk stops after visiting this many values. */
  readonly maxNodes: number;
}

export const WALK_LIMITS: WalkLimits = { maxDepth: 64, maxNodes: 1_000_000 };

/** At most this many findings per detector: evidence enough, a decision record still small. */
export const MAX_FINDINGS = 20;

/** One value in the document; its JSON Pointer is computed only when a detector reports it. */
export interface JsonNode {
  /** The member name or array index holding the value; null for the root. */
  readonly key: string | null;
  readonly value: unknown;
  /** 0 for the root. */
  readonly depth: number;
  readonly parent: JsonNode | null;
}

export type Visitor = (node: JsonNode) => void;

export interface WalkResult {
  /** False when the depth or node limit cut the walk short. */
  readonly complete: boolean;
  readonly nodes: number;
}

/** RFC 6901 JSON Pointer of `node`. */
export function pointerOf(node: JsonNode): string {
  const segments: string[] = [];
  for (let at: JsonNode | null = node; at !== null && at.key !== null; at = at.parent) {
    segments.push(at.key.replace(/~/g, '~0').replace(/\//g, '~1'));
  }
  return segments.length === 0 ? '' : '/' + segments.reverse().join('/');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Visits every value of `root` (depth first, document order) with each visitor. */
export function walkJson(
  root: unknown,
  visitors: Visitor | readonly Visitor[],
  limits: WalkLimits = WALK_LIMITS,
): WalkResult {
  const visit = typeof visitors === 'function' ? [visitors] : visitors;
  const stack: JsonNode[] = [{ key: null, value: root, depth: 0, parent: null }];
  let nodes = 0;
  let complete = true;
  while (stack.length > 0) {
    const node = stack.pop() as JsonNode;
    nodes++;
    for (const visitor of visit) visitor(node);
    const { value } = node;
    if (value === null || typeof value !== 'object') continue;
    if (node.depth >= limits.maxDepth) {
      complete = false;
      continue;
    }
    const depth = node.depth + 1;
    const keys = Array.isArray(value) ? null : Object.keys(value);
    const children = keys === null ? (value as unknown[]).length : keys.length;
    // Values that could never all be visited are not queued: the stack stays within the limit.
    if (nodes + stack.length + children > limits.maxNodes) return { complete: false, nodes };
    for (let i = children - 1; i >= 0; i--) {
      const key = keys === null ? String(i) : (keys[i] as string);
      const child: unknown =
        keys === null ? (value as unknown[])[i] : (value as Record<string, unknown>)[key];
      stack.push({ key, value: child, depth, parent: node });
    }
  }
  return { complete, nodes };
}

/** Collects threats of one kind, up to MAX_FINDINGS. */
export class Findings {
  readonly threats: Threat[] = [];

  constructor(private readonly id: ThreatId) {}

  get full(): boolean {
    return this.threats.length >= MAX_FINDINGS;
  }

  add(evidence: string): void {
    if (!this.full) this.threats.push(threat(this.id, evidence));
  }
}

/** Runs one visitor over `json` and returns what it found (the detectors' stand-alone form). */
export function detectWith(
  json: unknown,
  make: (findings: Findings) => Visitor,
  id: ThreatId,
): Threat[] {
  const findings = new Findings(id);
  walkJson(json, make(findings));
  return findings.threats;
}
