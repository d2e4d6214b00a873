/**
 * SPEC §9, transcribed by hand for the modes test (test/e2e/modes-routes.test.ts): what each mode
 * does to each action — never imported from the implementation's action table, which the test
 * checks against it.
 */
import type { Action } from '../../src/gate/actions.js';

export type Expected = 'write' | 'read' | 'governance' | 'always';

/** SPEC §9, action by action: what each mode does to it. */
export const SPEC_CLASS: Record<Action, Expected> = {
  'artifact.write': 'write',
  'artifact.delete': 'write',
  'artifact.restore': 'write',
  'artifact.read': 'read',
  'artifact.head': 'read',
  'artifact.versions': 'read',
  'artifact.list': 'read',
  'artifact.retention': 'write',
  'artifact.batch': 'write',
  'keys.create': 'governance',
  'keys.list': 'governance',
  'keys.revoke': 'governance',
  'keys.reinstate': 'governance',
  'policy.update': 'governance',
  'policy.restore': 'governance',
  'policy.versions': 'read',
  'policy.read': 'read',
  'integrations.validate': 'governance',
  'integrations.list': 'governance',
  'integrations.read': 'governance',
  'integrations.revoke': 'governance',
  'gate.validate_operation': 'governance',
  'gate.read': 'governance',
  'threats.read': 'governance',
  'holds.place': 'governance',
  'holds.lift': 'governance',
  'holds.read': 'governance',
  'retention.sweep': 'write',
  'subjects.export': 'read',
  // SPEC §9: erasures are refused in read_only, like sweeps.
  'erasures.create': 'write',
  'erasures.read': 'governance',
  'audit.read': 'always',
  'audit.export': 'always',
  'audit.write': 'read',
  'events.read': 'read',
  'mode.read': 'always',
  'mode.set': 'always',
  'incidents.list': 'always',
  'incidents.resolve': 'always',
  'webhooks.create': 'governance',
  'webhooks.list': 'governance',
  'webhooks.delete': 'governance',
  'webhooks.deliveries': 'governance',
  'exceptions.request': 'governance',
  'exceptions.list': 'governance',
  'exceptions.approve': 'governance',
  'exceptions.reject': 'governance',
  'scrub.start': 'governance',
  'scrub.read': 'governance',
  'drift.read': 'governance',
  'agents.list': 'read',
  'baskets.list': 'read',
  'runs.start': 'write',
  'runs.read': 'read',
  'runs.cancel': 'write',
  'certification.read': 'read',
};
