/**
 * What a key's kind may do, from the Bucket's own action table (src/gate/actions.ts, bundled in):
 * the console never calls a route the key may not use, since reaching for governance without the
 * right is a T4 attempt that counts toward the key's suspension (SPEC §5).
 */
import { ACTIONS, readsContent, type Action } from '../../src/gate/actions';
import type { Identity } from './identity';

export function can(identity: Identity, action: Action): boolean {
  return (ACTIONS[action].kinds as readonly string[]).includes(identity.kind);
}

export function canReadContent(identity: Identity): boolean {
  return readsContent(identity.kind);
}

export type { Action };
