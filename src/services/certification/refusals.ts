/** Certification R1–R7 (SPEC §9): the seven refusals, from live state and dry runs. */
import { ACTIONS, type Action } from '../../gate/actions.js';
import { floorBreaches } from '../../policy/floors.js';
import type { ExceptionService } from '../exceptions.js';
import { brief, deniedBy, probeHead, reports } from './probe.js';
import type { CheckDefinition } from './types.js';

/** Routes that may answer without a key (SPEC §1, §14). */
const PUBLIC_ROUTES = [
  /^\/health$/,
  /^\/metrics$/,
  /^\/openapi\.json$/,
  /^\/docs(\/|$)/,
  /^\/console(\/|$)/,
];
/** An exception applies within 5 s of its expiry (SPEC §9); later, it outlived its time box. */
const EXPIRY_GRACE_MS = 5_000;
const MAX_EXCEPTION_MINUTES = 10_080;

export function refusalChecks(exceptions: ExceptionService): CheckDefinition[] {
  return [
    {
      id: 'R1',
      name: 'no_exceptions',
      async run(inputs) {
        const breaches = floorBreaches(inputs.policy.document);
        const live = (await exceptions.list()).filter((found) => found.status === 'approved');
        const unboxed = live
          .filter(
            (found) =>
              found.expiresAt === null ||
              found.durationMinutes > MAX_EXCEPTION_MINUTES ||
              Date.parse(found.expiresAt) + EXPIRY_GRACE_MS < inputs.now,
          )
          .map((found) => ({ id: found.id, expiresAt: found.expiresAt }));
        return {
          pass: breaches.length === 0 && unboxed.length === 0,
          evidence: {
            floorBreaches: breaches,
            activeExceptions: live.map((found) => ({ id: found.id, expiresAt: found.expiresAt })),
            notTimeBoxed: unboxed,
          },
        };
      },
    },
    {
      id: 'R2',
      name: 'no_direct_access',
      async run(inputs) {
        const unbound = inputs.routes
          .filter((route) =>
            route.binding === 'public'
              ? !PUBLIC_ROUTES.some((pattern) => pattern.test(route.url))
              : route.binding === 'action' &&
                (route.action === null || !Object.hasOwn(ACTIONS, route.action)),
          )
          .map((route) => `${route.method} ${route.url}`);
        return {
          pass: unbound.length === 0 && inputs.routes.length > 0,
          evidence: {
            routes: inputs.routes.length,
            public: inputs.routes.filter((route) => route.binding === 'public').length,
            gatedByService: inputs.routes.filter((route) => route.binding === 'service').length,
            notBound: unbound,
          },
        };
      },
    },
    {
      id: 'R3',
      name: 'no_schema_flex',
      async run(inputs) {
        const shadowing = await inputs.probe.decide({
          as: 'ai_avatar',
          action: 'artifact.write',
          product: 'ai_avatar',
          class: 'avatar_config',
          json: { look: 'certification' },
          meta: { sha256: '0'.repeat(64) },
        });
        return {
          pass: deniedBy(shadowing) && reports(shadowing, 'T2'),
          evidence: { dryRunServerFieldHeader: brief(shadowing) },
        };
      },
    },
    {
      id: 'R4',
      name: 'no_cross_product',
      async run(inputs) {
        const products = Object.keys(inputs.policy.document.products);
        const reached: string[] = [];
        let probes = 0;
        for (const own of products) {
          for (const other of products) {
            if (own === other) continue;
            probes += 1;
            const decision = await inputs.probe.decide({
              as: own,
              action: 'artifact.read',
              product: other,
              class: inputs.policy.document.products[other]?.allowedClasses[0] ?? 'metadata',
            });
            if (!deniedBy(decision) || !reports(decision, 'T1')) reached.push(`${own}→${other}`);
          }
        }
        return {
          pass: reached.length === 0 && probes > 0,
          evidence: { dryRuns: probes, notDeniedT1: reached },
        };
      },
    },
    {
      id: 'R5',
      name: 'ai_write_only',
      async run(inputs) {
        const update = await inputs.probe.decide({
          kind: 'ai_agent',
          as: 'ai_avatar',
          action: 'artifact.write',
          product: 'ai_avatar',
          class: 'avatar_config',
          head: probeHead('ai_avatar', 'avatar_config'),
          json: { look: 'certification' },
        });
        const governance = await inputs.probe.decide({
          kind: 'ai_agent',
          as: 'ai_avatar',
          action: 'policy.update',
        });
        return {
          pass: deniedBy(update, 'ai_write_only') && deniedBy(governance),
          evidence: { dryRunAgentUpdate: brief(update), dryRunAgentPolicy: brief(governance) },
        };
      },
    },
    {
      id: 'R6',
      name: 'audit_append_only',
      async run(inputs) {
        const write = await inputs.probe.decide({ kind: 'owner', as: null, action: 'audit.write' });
        return {
          pass: deniedBy(write, 'audit_log_append_only') && reports(write, 'T3'),
          evidence: { dryRunOwnerAuditWrite: brief(write) },
        };
      },
    },
    {
      id: 'R7',
      name: 'no_retention_weakening',
      async run(inputs) {
        const head = probeHead('ai_assistant', 'metadata');
        const shorten = await inputs.probe.decide({
          kind: 'owner',
          as: null,
          action: 'artifact.retention',
          product: 'ai_assistant',
          class: 'metadata',
          head: { ...head, retention: { mode: 'compliance', until: '2999-01-01T00:00:00.000Z' } },
          retentionChange: { until: '2000-01-01T00:00:00.000Z' },
        });
        const floors = floorBreaches(inputs.policy.document).filter(
          (breach) => breach.floor === 'class_retention',
        );
        return {
          pass: deniedBy(shorten, 'compliance_retention') && floors.length === 0,
          evidence: { dryRunShortenCompliance: brief(shorten), retentionFloorBreaches: floors },
        };
      },
    },
  ];
}

/** Governance actions an executor must never be allowed (SPEC §9 executor misbehaviour). */
export const EXECUTOR_FORBIDDEN: readonly Action[] = [
  'policy.update',
  'keys.create',
  'holds.place',
  'mode.set',
];
