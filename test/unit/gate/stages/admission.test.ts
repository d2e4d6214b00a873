/** Stage 3 (admission) of the gate: src/gate/stages/admission.ts as a pure function. */
import { describe, expect, it } from 'vitest';
import { admissionStage } from '../../../../src/gate/stages/admission.js';
import { defaultPolicyVersion, gateContext, principal, rules } from '../../../helpers/gate.js';

describe('stage 3: admission', () => {
  const admit = (product: string, classId: string | null, name: string | null = null) =>
    admissionStage(
      gateContext({
        principal: principal('owner'),
        action: 'artifact.read',
        product,
        class: classId,
        name,
      }),
    );

  it('answers an unknown product with 404 product_not_found', () => {
    expect(admit('no_such_product', 'metadata').deny).toMatchObject({
      status: 404,
      code: 'product_not_found',
    });
  });

  it('refuses every globally rejected class, for every product', () => {
    const document = defaultPolicyVersion().document;
    for (const product of Object.keys(document.products)) {
      for (const classId of document.rejectedClasses) {
        const verdict = admit(product, classId);
        expect(verdict.deny?.status, `${product}/${classId}`).toBe(403);
      }
    }
  });

  it("refuses a product's explicitly forbidden class with 403", () => {
    const verdict = admit('ai_assistant', 'system_config');
    expect(verdict.deny?.status).toBe(403);
    expect(rules(verdict)).toEqual(['class_forbidden']);
  });

  it('answers an unknown class with 404 class_not_found', () => {
    expect(admit('gurukul', 'no_such_class').deny).toMatchObject({
      status: 404,
      code: 'class_not_found',
    });
  });

  it("refuses another product's class with 403 class_not_allowed", () => {
    const verdict = admit('gurukul', 'model_checkpoint');
    expect(verdict.deny?.status).toBe(403);
    expect(rules(verdict)).toEqual(['class_not_allowed']);
  });

  it('admits each product exactly its allowed classes', () => {
    const document = defaultPolicyVersion().document;
    for (const [product, rule] of Object.entries(document.products)) {
      for (const classId of Object.keys(document.classes)) {
        const allowed = admit(product, classId).deny === undefined;
        expect(allowed, `${product}/${classId}`).toBe(rule.allowedClasses.includes(classId));
      }
    }
  });

  it('refuses a malformed artifact name with 400 invalid_name', () => {
    expect(admit('gurukul', 'user_progress', 'a/../b').deny).toMatchObject({
      status: 400,
      code: 'invalid_name',
    });
    expect(admit('gurukul', 'user_progress', 'a/b.json').deny).toBeUndefined();
  });
});
