/**
 * Stage 4 — operation (SPEC §4.1): the class × operation table, the actor kind (ai_agent: CREATE
 * and READ only), read-only products and write preconditions, then retention and legal holds
 * (retention.ts), against the target's metadata.
 */
import { threat } from '../../domain/decision.js';
import { ruleOf, type Operation } from '../../domain/policy.js';
import { ACTIONS } from '../actions.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';
import { retentionVerdict } from './retention.js';

/** The class operation an artifact action amounts to (restore undoes a DELETE and needs D). */
export function classOperationOf(ctx: GateContext): Operation | null {
  const operation = ACTIONS[ctx.action].classOperation;
  if (operation !== 'CREATE|UPDATE') return operation;
  return ctx.target?.head ? 'UPDATE' : 'CREATE';
}

/**
 * A write of a write-once name whose client hash (`x-bucket-sha256`) is the content its current
 * version already holds: the retry of an upload whose answer was lost. Nothing would be
 * overwritten, so it is refused like any UPDATE the class forbids but without the T3 detection
 * that would count toward suspending the key (SPEC §5); nothing is read or stored either way.
 */
function unchangedReplay(ctx: GateContext, operation: Operation): StageVerdict | null {
  const head = ctx.target?.head;
  if (operation !== 'UPDATE' || ctx.action !== 'artifact.write' || !head || head.tombstone) {
    return null;
  }
  if (ctx.sha256Claim === null || ctx.sha256Claim !== head.sha256) return null;
  return deny('forbidden', [
    {
      rule: 'write_once_unchanged',
      message:
        `version ${head.version} already holds this content (x-bucket-sha256 matches); ` +
        `class "${ctx.class ?? ''}" is write-once, so it stays as it is`,
    },
  ]);
}

export function operationStage(ctx: GateContext): StageVerdict {
  const verdict = classOperationStage(ctx);
  if (verdict.deny) return verdict;
  return retentionVerdict(ctx) ?? verdict;
}

/** The class × operation table, the actor kind, read-only products and preconditions. */
function classOperationStage(ctx: GateContext): StageVerdict {
  const operation = classOperationOf(ctx);
  if (operation === null || ctx.product === null) return ALLOW;
  const document = ctx.policy.document;
  const writes = operation !== 'READ';
  if (writes && ruleOf(document.products, ctx.product)?.readOnly) {
    return deny('forbidden', [
      { rule: 'product_read_only', message: `product "${ctx.product}" is read-only` },
    ]);
  }
  const classRule = ctx.class === null ? undefined : ruleOf(document.classes, ctx.class);
  if (!classRule) return { operation };
  if (ctx.principal.kind === 'ai_agent' && operation !== 'CREATE' && operation !== 'READ') {
    return deny(
      'forbidden',
      [{ rule: 'ai_write_only', message: 'ai_agent keys may only CREATE and READ' }],
      [threat('T3', `ai_agent ${operation} of ${ctx.class}/${ctx.name ?? ''}`)],
    );
  }
  if (!classRule.operations.includes(operation)) {
    const unchanged = unchangedReplay(ctx, operation);
    if (unchanged) return unchanged;
    const threats =
      operation === 'UPDATE'
        ? [threat('T3', `overwrite of write-once ${ctx.class}/${ctx.name ?? ''}`)]
        : operation === 'DELETE'
          ? [threat('T3', `delete of ${ctx.class}/${ctx.name ?? ''}, which the class forbids`)]
          : [];
    return deny(
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
      return deny('already_exists', [
        { rule: 'if_none_match', message: `version ${head.version} exists (If-None-Match: *)` },
      ]);
    }
    const expected = ctx.preconditions.ifVersion;
    if (expected !== null && (head?.version ?? 0) !== expected) {
      return deny('version_conflict', [
        {
          rule: 'if_version',
          message: `current version is ${head?.version ?? 0}, not ${expected}`,
        },
      ]);
    }
  }
  return { operation };
}
