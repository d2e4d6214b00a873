/** The built-in agents of SPEC §11 (pinned names), by name, in the order GET /v1/agents lists them. */
import { autoDiagnostics } from './diagnostics.js';
import {
  gurukulAnomaly,
  gurukulFeedback,
  gurukulTrend,
  sanskritParser,
  vedicQuiz,
} from './education.js';
import { cashflowAnalyzer, financialCoordinator, goalRecommender } from './finance.js';
import { lawAgent } from './law.js';
import { vehicleMaintenance } from './maintenance.js';
import type { BuiltinAgent } from './types.js';

export const BUILTIN_AGENTS: ReadonlyMap<string, BuiltinAgent> = new Map(
  [
    cashflowAnalyzer,
    goalRecommender,
    financialCoordinator,
    autoDiagnostics,
    vehicleMaintenance,
    gurukulTrend,
    gurukulFeedback,
    gurukulAnomaly,
    lawAgent,
    sanskritParser,
    vedicQuiz,
  ].map((agent) => [agent.name, agent]),
);
