/**
 * Stage 2 — integration (SPEC §4.1): product and ai_agent keys act through an approved, unrevoked
 * integration of their own product, and only on the classes it declared (T4).
 */
import { threat } from '../../domain/decision.js';
import { closestId, ruleOf } from '../../domain/policy.js';
import type { PrincipalKind } from '../../domain/principal.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';

const INTEGRATION_BOUND: ReadonlySet<PrincipalKind> = new Set(['product', 'ai_agent']);

export function integrationStage(ctx: GateContext): StageVerdict {
  const { principal } = ctx;
  if (!INTEGRATION_BOUND.has(principal.kind)) return ALLOW;
  const integration = ctx.integration ?? null;
  const named = principal.integrationId ?? '(none)';
  if (
    integration === null ||
    integration.id !== principal.integrationId ||
    integration.product !== principal.product
  ) {
    return deny(
      'forbidden',
      [
        {
          rule: 'integration_required',
          message: `this key acts through no approved integration of "${principal.product ?? ''}"`,
        },
      ],
      [threat('T4', `${principal.kind} key without an approved integration (${named})`)],
    );
  }
  if (integration.revokedAt !== null) {
    return deny(
      'forbidden',
      [{ rule: 'integration_revoked', message: `integration "${integration.id}" is revoked` }],
      [threat('T4', `${principal.kind} key through revoked integration "${integration.id}"`)],
    );
  }
  if (ctx.class !== null && !integration.classes.includes(ctx.class)) {
    return deny(
      'forbidden',
      [
        {
          rule: 'class_not_declared',
          message:
            `integration "${integration.id}" did not declare class "${ctx.class}"` +
            unknownClassNote(ctx, integration.classes),
        },
      ],
      [threat('T4', `class "${ctx.class}" outside integration "${integration.id}"`)],
    );
  }
  return ALLOW;
}

/**
 * When the undeclared class exists nowhere in the policy — most often a typo — the message says
 * so, with the nearest class name. This stage's denial and threat stand (SPEC §4.1 order): the
 * note names only the policy's classes, which any key reads from product-rules.
 */
function unknownClassNote(ctx: GateContext, declared: readonly string[]): string {
  const classId = ctx.class ?? '';
  const { classes } = ctx.policy.document;
  if (ruleOf(classes, classId)) return '';
  const nearest = closestId(classId, [
    ...declared,
    ...Object.keys(classes).filter((id) => !declared.includes(id)),
  ]);
  return (
    `; no class "${classId}" exists in the policy` +
    (nearest === null ? '' : ` — did you mean "${nearest}"?`)
  );
}
