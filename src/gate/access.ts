/** Which principal kinds may use each action at all (SPEC §1 table), before anything else. */
import { PRINCIPAL_KINDS, type PrincipalKind } from '../domain/principal.js';
import type { Action } from './context.js';

const ALL: readonly PrincipalKind[] = PRINCIPAL_KINDS;
const NAMESPACE_WRITERS: readonly PrincipalKind[] = ['product', 'ai_agent', 'core'];
const CONTENT_READERS: readonly PrincipalKind[] = ['owner', 'product', 'ai_agent', 'core'];

export const ACTION_ACCESS: Readonly<Record<Action, readonly PrincipalKind[]>> = {
  'artifact.write': NAMESPACE_WRITERS,
  'artifact.delete': NAMESPACE_WRITERS,
  // The owner may undo a tombstone (recovery); the product's own writers may too.
  'artifact.restore': ['owner', ...NAMESPACE_WRITERS],
  // Auditors and executors read metadata, never content (SPEC §1).
  'artifact.read': CONTENT_READERS,
  'artifact.head': ALL,
  'artifact.versions': ALL,
  'artifact.list': ALL,
  'keys.create': ['owner'],
  'keys.list': ['owner'],
  'keys.revoke': ['owner'],
  'policy.update': ['owner'],
  // Like the live policy, its history is readable by every key (SPEC §4.2: governance GETs).
  'policy.versions': ALL,
  'policy.read': ALL,
};

/** Actions that are governance or key administration (T4 when a namespace principal tries). */
export const GOVERNANCE_ACTIONS: ReadonlySet<Action> = new Set([
  'policy.update',
  'keys.create',
  'keys.list',
  'keys.revoke',
]);
