/**
 * T4 — attempts to switch governance off (SPEC §5): query parameters or request headers named
 * like bypass, override, skip_audit or emergency. There is no such switch; asking for one is a
 * threat, whoever asks.
 */
import { threat, type Threat } from '../../domain/decision.js';

export const BYPASS_NAME = /bypass|override|skip[-_]?audit|no[-_]?audit|emergency/i;

export function detectBypassParams(
  queryNames: readonly string[],
  headerNames: readonly string[],
): Threat[] {
  // Loops, not filter and map: this runs on every request, and almost always finds nothing.
  const threats: Threat[] = [];
  for (const name of queryNames) {
    if (BYPASS_NAME.test(name)) {
      threats.push(threat('T4', `query parameter "${name}" asks to bypass governance`));
    }
  }
  for (const name of headerNames) {
    if (BYPASS_NAME.test(name)) {
      threats.push(threat('T4', `header "${name}" asks to bypass governance`));
    }
  }
  return threats;
}
