/**
 * Stage 4's retention rules (SPEC §8, §5 T3), over the target's metadata: no tombstone under a
 * legal hold, and compliance retention never shortened or removed.
 */
import { threat } from '../../domain/decision.js';
import { retentionChangeRefusal } from '../../domain/retention.js';
import { deny, type GateContext, type StageVerdict } from '../context.js';

function label(ctx: GateContext): string {
  return `${ctx.class ?? ''}/${ctx.name ?? ''}`;
}

/** A denial of the target's retention rules, or null when they allow the request. */
export function retentionVerdict(ctx: GateContext): StageVerdict | null {
  if (ctx.action === 'artifact.delete') {
    const holds = ctx.target?.holds ?? [];
    if (holds.length === 0) return null;
    const cases = holds.map((hold) => `${hold.id} (case ${hold.caseRef})`).join(', ');
    return deny(
      'legal_hold',
      [{ rule: 'legal_hold', message: `legal hold ${cases} covers ${label(ctx)}` }],
      [threat('T3', `tombstone of ${label(ctx)} under legal hold`)],
    );
  }
  if (ctx.action === 'artifact.retention' && ctx.retentionChange) {
    // The version the change names, the head when it names none (`version` absent); a named
    // version that does not exist (`version: null`) is the route's 404, not the head's retention.
    const version = ctx.target?.version === undefined ? ctx.target?.head : ctx.target.version;
    if (!version) return null;
    const { until } = ctx.retentionChange;
    if (retentionChangeRefusal(version.retention, until) === null) return null;
    const asked = until ?? 'permanent';
    return deny(
      'compliance_retention',
      [
        {
          rule: 'compliance_retention',
          message:
            `version ${version.version} of ${label(ctx)} is retained in compliance mode until ` +
            `${version.retention.until ?? 'forever'}; ${asked} would shorten it`,
        },
      ],
      [threat('T3', `shortening compliance retention of ${label(ctx)} v${version.version}`)],
    );
  }
  return null;
}
