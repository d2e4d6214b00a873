/**
 * Stage 3 — admission (SPEC §4.1): the product exists, the class is admitted for it, and the
 * artifact name is well-formed (before anything looks a target up by that name).
 */
import { nameProblem } from '../../domain/artifact.js';
import { ruleOf } from '../../domain/policy.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';

export function admissionStage(ctx: GateContext): StageVerdict {
  if (ctx.product === null) return ALLOW;
  const document = ctx.policy.document;
  const product = ruleOf(document.products, ctx.product);
  if (!product) {
    return deny('product_not_found', [
      { rule: 'unknown_product', message: `no product "${ctx.product}" in the policy` },
    ]);
  }
  const classId = ctx.class;
  if (classId === null) return ALLOW;
  if (document.rejectedClasses.includes(classId)) {
    return deny('forbidden', [
      { rule: 'class_rejected', message: `class "${classId}" is rejected everywhere` },
    ]);
  }
  if (product.forbiddenClasses.includes(classId)) {
    return deny('forbidden', [
      {
        rule: 'class_forbidden',
        message: `class "${classId}" is forbidden for product "${ctx.product}"`,
      },
    ]);
  }
  if (!ruleOf(document.classes, classId)) {
    return deny('class_not_found', [
      { rule: 'unknown_class', message: `no class "${classId}" in the policy` },
    ]);
  }
  if (!product.allowedClasses.includes(classId)) {
    return deny('forbidden', [
      {
        rule: 'class_not_allowed',
        message: `class "${classId}" is not allowed for product "${ctx.product}"`,
      },
    ]);
  }
  if (ctx.name !== null) {
    const problem = nameProblem(ctx.name);
    if (problem !== null) {
      return deny('invalid_name', [{ rule: 'artifact_name', message: problem }]);
    }
  }
  return ALLOW;
}
