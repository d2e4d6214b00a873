/**
 * Stage 4 — operation (SPEC §4.1): the class × operation table, the actor kind (ai_agent: CREATE
 * and READ only), read-only products and write preconditions, against the target's metadata.
 */
import { threat } from '../../domain/decision.js';
import type { Operation } from '../../domain/policy.js';
import { ALLOW, deny, type Action, type GateContext, type StageVerdict } from '../context.js';

const READ_ACTIONS: ReadonlySet<Action> = new Set([
  'artifact.read',
  'artifact.head',
  'artifact.versions',
  'artifact.list',
]);

/** Actions whose decision needs the target's current state (existence, version). */
export const TARGET_ACTIONS: ReadonlySet<Action> = new Set([
  'artifact.write',
  'artifact.delete',
  'artifact.restore',
]);

/** The class operation an artifact action amounts to (restore undoes a DELETE and needs D). */
export function classOperationOf(ctx: GateContext): Operation | null {
  if (READ_ACTIONS.has(ctx.action)) return 'READ';
  if (ctx.action === 'artifact.delete' || ctx.action === 'artifact.restore') return 'DELETE';
  if (ctx.action === 'artifact.write') return ctx.target?.head ? 'UPDATE' : 'CREATE';
  return null;
}

export function operationStage(ctx: GateContext): StageVerdict {
  const operation = classOperationOf(ctx);
  if (operation === null || ctx.product === null) return ALLOW;
  const document = ctx.policy.document;
  const writes = operation !== 'READ';
  if (writes && document.products[ctx.product]?.readOnly) {
    return deny(403, 'forbidden', [
      { rule: 'product_read_only', message: `product "${ctx.product}" is read-only` },
    ]);
  }
  const classRule = ctx.class === null ? undefined : document.classes[ctx.class];
  if (!classRule) return { operation };
  if (ctx.principal.kind === 'ai_agent' && operation !== 'CREATE' && operation !== 'READ') {
    return deny(
      403,
      'forbidden',
      [{ rule: 'ai_write_only', message: 'ai_agent keys may only CREATE and READ' }],
      [threat('T3', `ai_agent ${operation} of ${ctx.class}/${ctx.name ?? ''}`)],
    );
  }
  if (!classRule.operations.includes(operation)) {
    const threats =
      operation === 'UPDATE'
        ? [threat('T3', `overwrite of write-once ${ctx.class}/${ctx.name ?? ''}`)]
        : operation === 'DELETE'
          ? [threat('T3', `delete of ${ctx.class}/${ctx.name ?? ''}, which the class forbids`)]
          : ctx.class === 'audit_log'
            ? [threat('T3', 'write to the audit log')]
            : [];
    return deny(
      403,
      'forbidden',
      [
        {
          rule: 'operation_not_allowed',
          message: `class "${ctx.class}" does not allow ${operation}`,
        },
      ],
      threats,
    );
  }
  if (ctx.action === 'artifact.write') {
    const head = ctx.target?.head ?? null;
    if (ctx.preconditions.ifNoneMatch && head && !head.tombstone) {
      return deny(412, 'already_exists', [
        { rule: 'if_none_match', message: `version ${head.version} exists (If-None-Match: *)` },
      ]);
    }
    const expected = ctx.preconditions.ifVersion;
    if (expected !== null && (head?.version ?? 0) !== expected) {
      return deny(409, 'version_conflict', [
        {
          rule: 'if_version',
          message: `current version is ${head?.version ?? 0}, not ${expected}`,
        },
      ]);
    }
  }
  return { operation };
}
