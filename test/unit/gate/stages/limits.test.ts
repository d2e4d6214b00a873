/** Stage 6 (limits) of the gate: src/gate/stages/limits.ts as a pure function. */
import { describe, expect, it } from 'vitest';
import { bodyLimitOf, limitsStage } from '../../../../src/gate/stages/limits.js';
import { gateContext, principal, threatIds } from '../../../helpers/gate.js';

describe('stage 6: limits', () => {
  const sized = (classId: string, declaredSize: number | null, received?: number) =>
    gateContext({
      principal: principal('product', 'ai_assistant'),
      action: 'artifact.write',
      product: 'ai_assistant',
      class: classId,
      name: 'item',
      declaredSize,
      ...(received === undefined ? {} : { content: { size: received, sha256: '', bytes: null } }),
    });

  it("limits a write body to the class's maximum within the global one", () => {
    expect(bodyLimitOf(sized('metadata', null))).toBe(16 * 1024);
    expect(bodyLimitOf(sized('audit_entry', null))).toBe(100 * 1024);
    const read = gateContext({ principal: principal('owner'), action: 'artifact.read' });
    expect(bodyLimitOf(read)).toBeNull();
  });

  it('answers a declared size over the class maximum with 413 and T5', () => {
    const verdict = limitsStage(sized('metadata', 16 * 1024 + 1));
    expect(verdict.deny).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(threatIds(verdict)).toEqual(['T5']);
    expect(limitsStage(sized('metadata', 16 * 1024)).deny).toBeUndefined();
  });

  it('judges the received size, not the declared one, once the body has arrived', () => {
    expect(limitsStage(sized('metadata', null, 16 * 1024 + 1)).deny?.status).toBe(413);
    expect(limitsStage(sized('metadata', 10, 16 * 1024 + 1)).deny?.status).toBe(413);
  });

  it('answers a write without a free write slot with 429 and T5', () => {
    const verdict = limitsStage({ ...sized('metadata', 10), writeSlot: false });
    expect(verdict.deny).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(threatIds(verdict)).toEqual(['T5']);
  });
});
