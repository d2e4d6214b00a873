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
  return [
    ...queryNames
      .filter((name) => BYPASS_NAME.test(name))
      .map((name) => threat('T4', `query parameter "${name}" asks to bypass governance`)),
    ...headerNames
      .filter((name) => BYPASS_NAME.test(name))
      .map((name) => threat('T4', `header "${name}" asks to bypass governance`)),
  ];
}
