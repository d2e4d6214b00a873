/**
 * Every gated action, in one table: who may use it (SPEC §1), whether it is governance (SPEC
 * §4.2, §5 T4), whether it changes stored state (SPEC §6: its allow entry goes in the change's own
 * transaction), whether stage 4 needs its target, the class operation it amounts to, and how it
 * fares in each mode (SPEC §9). Adding an action is one row here.
 */
import type { ModeClass } from '../domain/modes.js';
import type { Operation } from '../domain/policy.js';
import { PRINCIPAL_KINDS, type PrincipalKind } from '../domain/principal.js';

export interface ActionRule {
  /** The principal kinds that may use the action at all, decided before anything else. */
  readonly kinds: readonly PrincipalKind[];
  /** Governance or key administration: a key reaching for it without the right is T4. */
  readonly governance: boolean;
  /**
   * `change`: the action changes stored state, and the entry of the decision that allowed it is
   * appended in the change's own transaction (SPEC §6); `read`: recorded as it is decided.
   */
  readonly effect: 'change' | 'read';
  /** Whether the decision needs the target's current state (existence, version): stage 4. */
  readonly needsTarget: boolean;
  /**
   * The class operation an artifact action amounts to (SPEC §2.2 table); `CREATE|UPDATE` is
   * resolved against the target. Null for actions on no artifact class.
   */
  readonly classOperation: Operation | 'CREATE|UPDATE' | null;
  /**
   * What the Bucket's mode does to it (domain/modes.ts `modeRefusal`): `write` is refused in
   * read_only and halted, `read` and `governance` in halted only, `always` never.
   */
  readonly mode: ModeClass;
  /**
   * Decided by the mode stage and the fixed stage alone (gate/stages/fixed.ts: `kinds`, nothing of
   * the policy), never by the policy's stages: the owner's off-switch works when the policy or the
   * gate does not (SPEC §9). The off-switch and what it needs are open in every mode (`fixed()`).
   */
  readonly fixed?: true;
}

const ALL: readonly PrincipalKind[] = PRINCIPAL_KINDS;
const NAMESPACE_WRITERS: readonly PrincipalKind[] = ['product', 'ai_agent', 'core'];
const CONTENT_READERS: readonly PrincipalKind[] = ['owner', 'product', 'ai_agent', 'core'];
/** SPEC §4.2: the validate endpoints, for a product key's own product. */
const VALIDATORS: readonly PrincipalKind[] = ['owner', 'executor', 'product'];
const OVERSIGHT: readonly PrincipalKind[] = ['owner', 'executor', 'auditor'];
const OWNER: readonly PrincipalKind[] = ['owner'];
const RUNNERS: readonly PrincipalKind[] = ['owner', 'executor', 'core', 'product'];

/** An artifact action: a change is a `write` for the modes, anything else a `read`. */
function artifact(
  kinds: readonly PrincipalKind[],
  classOperation: ActionRule['classOperation'],
  effect: ActionRule['effect'],
): ActionRule {
  const mode = effect === 'change' ? 'write' : 'read';
  return {
    kinds,
    governance: false,
    effect,
    needsTarget: effect === 'change',
    classOperation,
    mode,
  };
}

function governance(
  kinds: readonly PrincipalKind[],
  effect: ActionRule['effect'],
  mode: ModeClass = 'governance',
): ActionRule {
  return { kinds, governance: true, effect, needsTarget: false, classOperation: null, mode };
}

function readable(kinds: readonly PrincipalKind[], mode: ModeClass = 'read'): ActionRule {
  return {
    kinds,
    governance: false,
    effect: 'read',
    needsTarget: false,
    classOperation: null,
    mode,
  };
}

/** Decided by the fixed stage, open in every mode (SPEC §9): the off-switch and what it needs. */
function fixed(rule: ActionRule): ActionRule {
  return { ...rule, mode: 'always', fixed: true };
}

export const ACTIONS = {
  'artifact.write': artifact(NAMESPACE_WRITERS, 'CREATE|UPDATE', 'change'),
  'artifact.delete': artifact(NAMESPACE_WRITERS, 'DELETE', 'change'),
  // The owner may undo a tombstone (recovery); the product's own writers may too. Restore undoes
  // a DELETE, so the class must allow D.
  'artifact.restore': artifact(['owner', ...NAMESPACE_WRITERS], 'DELETE', 'change'),
  // Auditors and executors read metadata, never content (SPEC §1).
  // Auditors too, where the policy grants them a class's content (stage 1 refuses the rest).
  'artifact.read': artifact([...CONTENT_READERS, 'auditor'], 'READ', 'read'),
  'artifact.head': artifact(ALL, 'READ', 'read'),
  'artifact.versions': artifact(ALL, 'READ', 'read'),
  'artifact.list': artifact(ALL, 'READ', 'read'),
  // SPEC §15: a batch of writes, decided as a whole (who may send one, the mode) before its body
  // is read; each item is then decided on its own as the write or delete it is.
  'artifact.batch': {
    kinds: NAMESPACE_WRITERS,
    governance: false,
    effect: 'change',
    needsTarget: false,
    classOperation: null,
    mode: 'write',
  } as ActionRule,
  // SPEC §8: the owner changes a version's retention; stage 4 refuses shortening compliance.
  'artifact.retention': {
    kinds: OWNER,
    governance: true,
    effect: 'change',
    needsTarget: true,
    classOperation: null,
    mode: 'write',
  } as ActionRule,
  'keys.create': governance(OWNER, 'change'),
  'keys.list': governance(OWNER, 'read'),
  'keys.revoke': governance(OWNER, 'change'),
  'keys.reinstate': governance(OWNER, 'change'),
  // The S3 door (SPEC §13, src/s3/; its credentials are key administration, `keys.*`, and its
  // ListBuckets a read of the policy's products, `policy.read`): a multipart upload's steps
  // before its completion (create, part, abort), decided on their target like the write they
  // lead to, so a write-once name refuses the upload before its parts are sent; the completion
  // is one governed artifact.write.
  's3.multipart': {
    kinds: NAMESPACE_WRITERS,
    governance: false,
    effect: 'read',
    needsTarget: true,
    classOperation: 'CREATE|UPDATE',
    mode: 'write',
  } as ActionRule,
  'policy.update': governance(OWNER, 'change'),
  // The repair of an unusable live version (decision 0050): the owner's alone, decided by the
  // fixed stage (no policy needed), refused in halted like any governance change.
  'policy.restore': { ...governance(OWNER, 'change'), fixed: true },
  // Like the live policy, its history is readable by every key (SPEC §4.2: governance GETs).
  'policy.versions': readable(ALL),
  'policy.read': readable(ALL),
  // SPEC §4.2: product keys may call the two validate endpoints (for their own product) and the
  // four gate GETs; every other governance route is closed to product and ai_agent keys.
  'integrations.validate': governance(VALIDATORS, 'change'),
  'integrations.list': governance(OVERSIGHT, 'read'),
  'integrations.read': governance(OVERSIGHT, 'read'),
  'integrations.revoke': governance(OWNER, 'change'),
  'gate.validate_operation': governance(VALIDATORS, 'read'),
  'gate.read': governance(['owner', 'executor', 'auditor', 'product'], 'read'),
  'threats.read': governance(OVERSIGHT, 'read'),
  // Legal holds (SPEC §8): the owner places and lifts them; owner, executor and auditor read them.
  'holds.place': governance(OWNER, 'change'),
  'holds.lift': governance(OWNER, 'change'),
  'holds.read': governance(OVERSIGHT, 'read'),
  // A data subject's access export (SPEC §8 DSAR, GDPR Art. 15): owner and auditor; the lines
  // carry content only for the kinds that read content (`readsContent`).
  'subjects.export': governance(['owner', 'auditor'], 'read', 'read'),
  // Erasure of a data subject (SPEC §8 Art. 17): the owner's, refused in read_only like the
  // sweep; each erased version gets an entry of its own beside the erasure's. Its report is
  // read again by the owner, executor and auditor.
  'erasures.create': governance(OWNER, 'change', 'write'),
  'erasures.read': governance(OVERSIGHT, 'read'),
  // The retention sweep (SPEC §8): each purge is an entry of its own, so the sweep's decision is
  // recorded as it is made.
  'retention.sweep': governance(['owner', 'executor'], 'read', 'write'),
  // The audit log (SPEC §6): every key reads it and exports it, a namespace key only what
  // concerns its product (access.ts auditScope; its export carries each entry's inclusion proof).
  'audit.read': readable(ALL, 'always'),
  'audit.export': readable(ALL, 'always'),
  // A write method on /v1/audit: open to every kind so that stage 1 refuses it as what it is, an
  // attempt on the append-only log (SPEC §5 T3), not as a missing right.
  'audit.write': readable(ALL),
  // The event bus (SPEC §10): a product key reads its own product's events (access.ts
  // eventScope); owner, executor and auditor keys read all.
  'events.read': readable(['owner', 'executor', 'auditor', 'product']),
  // Modes and incidents (SPEC §9): open in every mode and decided without the policy; the switch
  // and the resolution are the owner's alone.
  'mode.read': fixed(readable(ALL)),
  'mode.set': fixed(governance(OWNER, 'change')),
  'incidents.list': fixed(governance(OVERSIGHT, 'read')),
  'incidents.resolve': fixed(governance(OWNER, 'change')),
  // The integrity scrub and drift (SPEC §9): owner and executor start a scrub, oversight reads
  // scrubs and drift. A scrub only reads what it checks, so read_only lets it run; halted not.
  'scrub.start': governance(['owner', 'executor'], 'read'),
  'scrub.read': governance(OVERSIGHT, 'read'),
  'drift.read': governance(OVERSIGHT, 'read'),
  // The live certification (SPEC §9): open to every key, like the mode; refused in halted.
  'certification.read': readable(ALL),
  // Webhooks (SPEC §10): the owner's; a subscription reaches out of the Bucket (SPEC §11).
  'webhooks.create': governance(OWNER, 'change'),
  'webhooks.list': governance(OWNER, 'read'),
  'webhooks.delete': governance(OWNER, 'change'),
  'webhooks.deliveries': governance(OWNER, 'read'),
  // Exceptions (SPEC §9): a product key requests for its own product and reads its own; only
  // the owner decides.
  'exceptions.request': governance(['owner', 'product'], 'change'),
  'exceptions.list': governance(['owner', 'executor', 'auditor', 'product'], 'read'),
  'exceptions.approve': governance(OWNER, 'change'),
  'exceptions.reject': governance(OWNER, 'change'),
  // Core (SPEC §11): every key lists the agents and baskets; owner, executor, core and product
  // keys run (a product key only baskets listing its product, and sees only its own runs:
  // src/core/runs.ts). Starting and cancelling are writes: refused in read_only and halted.
  'agents.list': readable(ALL),
  'baskets.list': readable(ALL),
  'runs.start': { ...readable(RUNNERS, 'write'), effect: 'change' } as ActionRule,
  'runs.read': readable(RUNNERS),
  'runs.cancel': { ...readable(RUNNERS, 'write'), effect: 'change' } as ActionRule,
} as const satisfies Record<string, ActionRule>;

export type Action = keyof typeof ACTIONS;

/**
 * Whether a principal kind may read artifact content (SPEC §1): executors never, auditors only of a
 * class whose rule grants it (`auditorContent`; without a rule, never).
 */
export function readsContent(kind: PrincipalKind, rule?: { auditorContent?: boolean }): boolean {
  return CONTENT_READERS.includes(kind) || (kind === 'auditor' && rule?.auditorContent === true);
}

/** Every action's name, in table order. */
export const ACTION_NAMES = Object.keys(ACTIONS) as readonly Action[];

/** The artifact action a dry run of a class operation decides (`validate-operation`). */
export const ACTION_FOR_OPERATION: Readonly<Record<Operation, Action>> = {
  CREATE: 'artifact.write',
  UPDATE: 'artifact.write',
  READ: 'artifact.read',
  DELETE: 'artifact.delete',
};
