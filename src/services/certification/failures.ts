/** Certification F1–F6 (SPEC §9 failure scenarios): each mechanism armed, seen live. */
import type { DriftService } from '../drift.js';
import type { GateHealth } from '../gate-health.js';
import type { ScrubService } from '../scrub.js';
import { brief, deniedBy, probeHead, reports } from './probe.js';
import { EXECUTOR_FORBIDDEN } from './refusals.js';
import { incidentsOf, type CheckDefinition } from './types.js';

export interface FailureDeps {
  readonly drift: DriftService;
  readonly gateHealth: GateHealth;
  readonly scrub: ScrubService;
}

export function failureChecks(deps: FailureDeps): CheckDefinition[] {
  return [
    {
      id: 'F1',
      name: 'executor_misbehaviour',
      async run(inputs) {
        const allowed: string[] = [];
        const dryRuns: Record<string, unknown> = {};
        for (const action of EXECUTOR_FORBIDDEN) {
          const decision = await inputs.probe.decide({ kind: 'executor', as: null, action });
          dryRuns[action] = brief(decision);
          if (!deniedBy(decision) || !reports(decision, 'T4')) allowed.push(action);
        }
        return { pass: allowed.length === 0, evidence: { dryRuns, notDeniedT4: allowed } };
      },
    },
    {
      id: 'F2',
      name: 'ai_escalation',
      async run(inputs) {
        const tombstone = await inputs.probe.decide({
          kind: 'ai_agent',
          as: 'core',
          action: 'artifact.delete',
          product: 'core',
          class: 'basket_config',
          head: probeHead('core', 'basket_config'),
        });
        const keys = await inputs.probe.decide({
          kind: 'ai_agent',
          as: 'ai_avatar',
          action: 'keys.create',
        });
        return {
          pass: deniedBy(tombstone, 'ai_write_only') && deniedBy(keys) && reports(keys, 'T4'),
          evidence: { dryRunAgentTombstone: brief(tombstone), dryRunAgentKeys: brief(keys) },
        };
      },
    },
    {
      id: 'F3',
      name: 'product_urgency',
      async run(inputs) {
        const policy = await inputs.probe.decide({ as: 'gurukul', action: 'policy.update' });
        const emergency = await inputs.probe.decide({
          as: 'gurukul',
          action: 'artifact.write',
          product: 'gurukul',
          class: 'educational_content',
          json: { lesson: 'certification' },
          query: { emergency: 'true' },
        });
        return {
          pass: deniedBy(policy) && reports(policy, 'T4') && reports(emergency, 'T4'),
          evidence: { dryRunProductPolicy: brief(policy), dryRunEmergencyParam: brief(emergency) },
        };
      },
    },
    {
      id: 'F4',
      name: 'silent_drift',
      async run() {
        const report = deps.drift.lastReport();
        const armed = report !== null && report.baseline.signatureValid;
        const scheduled = deps.drift.scheduled;
        return {
          pass: armed && report.checks.length === 4 && scheduled,
          evidence: {
            scheduled,
            ...(report
              ? {
                  baselineSignatureValid: report.baseline.signatureValid,
                  checkedAt: report.checkedAt,
                  components: report.checks.map((check) => check.component),
                }
              : { checked: false }),
          },
        };
      },
    },
    {
      id: 'F5',
      name: 'data_loss_or_corruption',
      async run(inputs) {
        const latest = inputs.latestScrub;
        const passed = inputs.lastPassedScrub;
        const scheduled = deps.scrub.scheduled;
        return {
          pass: passed !== null && latest?.status !== 'failed' && scheduled,
          evidence: {
            scheduled,
            lastScrub: latest ? { id: latest.id, status: latest.status } : null,
            lastPassedAt: passed?.finishedAt ?? null,
          },
        };
      },
    },
    {
      id: 'F6',
      name: 'gate_failure',
      async run(inputs) {
        const incidents = incidentsOf(inputs, 'gate_failure');
        const offSwitch = await inputs.probe.decide({
          kind: 'owner',
          as: null,
          action: 'mode.set',
        });
        return {
          pass: incidents.clear && offSwitch.allow,
          evidence: {
            dryRunOwnerModeSwitch: brief(offSwitch),
            failClosedLast60s: deps.gateHealth.recentFailures(),
            ...incidents,
          },
        };
      },
    },
  ];
}
