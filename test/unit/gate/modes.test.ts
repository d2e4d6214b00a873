/**
 * The mode in the gate (SPEC §9): stage 0 refuses by the action's mode class, before anything
 * else; the fixed stage decides the off-switch and the mode and incident reads on the action
 * table's kinds alone — a gate whose every stage throws still lets the owner switch.
 */
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES, ACTIONS } from '../../../src/gate/actions.js';
import { Gate } from '../../../src/gate/decide.js';
import { gateContext, principal } from '../../helpers/gate.js';

const failing = new Gate({
  beforeStage: (stage) => {
    throw new Error(`injected fault in ${stage}`);
  },
});

describe('the mode stage', () => {
  it('refuses writes in read_only and all but the always class in halted, first', async () => {
    const gate = new Gate();
    for (const action of ACTION_NAMES) {
      for (const mode of ['read_only', 'halted'] as const) {
        const ctx = gateContext({ principal: principal('auditor'), action, mode });
        const outcome = await gate.decide(ctx);
        const modeClass = ACTIONS[action].mode;
        const refused =
          modeClass !== 'always' && (mode === 'halted' || modeClass === 'write')
            ? mode === 'halted'
              ? 'bucket_halted'
              : 'bucket_read_only'
            : null;
        if (refused) {
          expect(outcome.code, `${mode} ${action}`).toBe(refused);
          expect(outcome.decision, `${mode} ${action}`).toMatchObject({
            status: 503,
            reasons: [{ rule: 'bucket_mode' }],
            threats: [],
          });
        } else {
          expect(String(outcome.code), `${mode} ${action}`).not.toMatch(/^bucket_/);
        }
      }
    }
  });
});

describe('the fixed stage', () => {
  it('lets the owner switch and resolve while every other stage throws', async () => {
    for (const action of [
      'mode.set',
      'incidents.resolve',
      'mode.read',
      'incidents.list',
      'policy.restore',
    ] as const) {
      const owner = await failing.decide(gateContext({ principal: principal('owner'), action }));
      expect(owner.decision.allow, action).toBe(true);
    }
    const other = await failing.decide(
      gateContext({ principal: principal('owner'), action: 'keys.list' }),
    );
    expect(other.code).toBe('gate_unavailable');
  });

  it('refuses every other kind the switch, as T4, and reads as the table says', async () => {
    for (const kind of ['executor', 'auditor', 'product', 'ai_agent', 'core'] as const) {
      const refused = await failing.decide(
        gateContext({ principal: principal(kind, 'gurukul'), action: 'mode.set' }),
      );
      expect(refused.decision, kind).toMatchObject({ allow: false, status: 403 });
      expect(
        refused.decision.threats.map((t) => t.id),
        kind,
      ).toEqual(['T4']);
      const list = await failing.decide(
        gateContext({ principal: principal(kind, 'gurukul'), action: 'incidents.list' }),
      );
      expect(list.decision.allow, kind).toBe(kind === 'executor' || kind === 'auditor');
      const read = await failing.decide(
        gateContext({ principal: principal(kind, 'gurukul'), action: 'mode.read' }),
      );
      expect(read.decision.allow, kind).toBe(true);
    }
  });
});
