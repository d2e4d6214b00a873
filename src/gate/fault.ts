/**
 * A test-only fault in the gate (issue 3, fail closed): `BUCKET_TEST_GATE_FAULT=<stage>` makes that
 * stage throw, so that end-to-end tests can see 503 `gate_unavailable` with storage untouched.
 * Refused unless `NODE_ENV=test`: a production server never starts with it.
 */
import type { GateOptions } from './decide.js';
import { STAGES_AFTER_LOOKUP, STAGES_BEFORE_LOOKUP } from './decide.js';

export const GATE_FAULT_ENV = 'BUCKET_TEST_GATE_FAULT';

export function gateFaultFromEnv(env: NodeJS.ProcessEnv): GateOptions | undefined {
  const stage = env[GATE_FAULT_ENV];
  if (stage === undefined || stage === '') return undefined;
  if (env['NODE_ENV'] !== 'test') {
    throw new Error(`${GATE_FAULT_ENV} is a test hook and needs NODE_ENV=test`);
  }
  const stages = [...STAGES_BEFORE_LOOKUP, ...STAGES_AFTER_LOOKUP].map(([name]) => name);
  if (!stages.includes(stage)) {
    throw new Error(`${GATE_FAULT_ENV} must name a stage (${stages.join(', ')}), not "${stage}"`);
  }
  return {
    beforeStage: (name) => {
      if (name === stage) throw new Error(`injected fault in stage ${stage}`);
    },
  };
}
