/**
 * Stage 1 — identity and isolation (SPEC §4.1): who may use the action, only on their own
 * namespace, and what the request claims about identity or asks to bypass (detectors, SPEC §5).
 */
import { threat } from '../../domain/decision.js';
import { PRODUCT_SCOPED_KINDS } from '../../domain/principal.js';
import { ruleOf } from '../../domain/policy.js';
import { ACTIONS, readsContent, type Action } from '../actions.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';
import { denialReasons, scanRequest } from '../detectors/index.js';

/** Actions that would change an artifact of their class (the virtual `audit_log` among them). */
const ARTIFACT_CHANGES: ReadonlySet<Action> = new Set([
  'artifact.write',
  'artifact.delete',
  'artifact.restore',
]);

/**
 * Any write to the audit log (SPEC §5 T3): a write method on /v1/audit, or an artifact change of
 * the virtual class `audit_log`, whoever asks — decided first, so that neither a missing right
 * (the owner writes no artifacts) nor a read-only product hides the attempt.
 */
function auditLogWrite(ctx: GateContext): boolean {
  return (
    ctx.action === 'audit.write' || (ARTIFACT_CHANGES.has(ctx.action) && ctx.class === 'audit_log')
  );
}

/** The rule of the class the request names, in the policy the gate decides with. */
function classRuleOf(ctx: GateContext) {
  return ctx.class === null ? undefined : ruleOf(ctx.policy.document.classes, ctx.class);
}

export function identityStage(ctx: GateContext): StageVerdict {
  const { principal, action } = ctx;
  const scoped = PRODUCT_SCOPED_KINDS.has(principal.kind);
  const ownProduct = principal.product ?? '';
  const findings = scanRequest({
    ownProduct: scoped ? ownProduct : null,
    meta: ctx.meta,
    query: ctx.query,
    headerNames: ctx.headerNames ?? [],
  });
  const found = findings.length === 0 ? [] : findings.flatMap((finding) => finding.threats);
  if (auditLogWrite(ctx)) {
    const where = ctx.product === null ? 'the audit log' : `${ctx.product}/audit_log`;
    return deny(
      'forbidden',
      [{ rule: 'audit_log_append_only', message: 'the audit log is written by the Bucket only' }],
      [threat('T3', `${principal.kind} key writing to ${where} (${action})`), ...found],
    );
  }
  const rule = ACTIONS[action];
  if (!rule.kinds.includes(principal.kind)) {
    // Any key reaching for governance it does not hold is circumvention: product and ai_agent
    // keys (SPEC §4.2), and executors or auditors on policy or keys (SPEC §9).
    const threats = rule.governance
      ? [threat('T4', `${principal.kind} key on governance action ${action}`)]
      : [];
    return deny(
      'forbidden',
      [{ rule: 'action_access', message: `${principal.kind} keys may not perform ${action}` }],
      [...threats, ...found],
    );
  }
  if (action === 'artifact.read' && !readsContent(principal.kind, classRuleOf(ctx))) {
    return deny(
      'forbidden',
      [
        {
          rule: 'action_access',
          message:
            `${principal.kind} keys read no content of class "${ctx.class ?? ''}" ` +
            '(the policy grants auditors the content of a class with auditorContent: true)',
        },
      ],
      found,
    );
  }
  if (scoped && ctx.product !== null && ctx.product !== ownProduct) {
    // Refused before any lookup: the answer is the same whether or not the target exists.
    return deny(
      'forbidden',
      [{ rule: 'product_isolation', message: `this key acts only on product "${ownProduct}"` }],
      [
        threat('T1', `${principal.kind} key of "${ownProduct}" on namespace "${ctx.product}"`),
        ...found,
      ],
    );
  }
  if (findings.length === 0) return ALLOW;
  const reasons = denialReasons(findings);
  if (reasons.length > 0) return deny('forbidden', reasons, found);
  return { threats: found };
}
