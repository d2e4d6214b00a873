/**
 * The execution_record of every finished run of a valid basket fits its class's 10 KiB (SPEC
 * §2.2, docs/decisions/0056): the largest basket the schema allows, with the longest names, the
 * largest audit receipts and error messages as long and as badly escaped as they come.
 */
import { describe, expect, it } from 'vitest';
import { BASKET_SCHEMA } from '../../../src/core/catalog.js';
import {
  EXECUTION_RECORD_MAX_BYTES,
  executionRecord,
  MAX_BASKET_AGENTS,
} from '../../../src/domain/run-record.js';
import { stepArtifactName, type RunRecord, type RunStep } from '../../../src/domain/runs.js';

const ID = '2f9c4f5e-8f0b-4a55-9d6a-0d6f3e1c9b7a';
const LONGEST_NAME = 'a'.repeat(100);
const TIME = '2026-12-06T10:00:00.000Z';
/** Control characters: six bytes each once escaped in JSON. */
const NASTY = '\u0001'.repeat(20_000);

function run(steps: RunStep[], error: RunRecord['error']): RunRecord {
  return {
    id: ID,
    plan: {
      kind: 'basket',
      name: LONGEST_NAME,
      strategy: 'parallel',
      agents: steps.map((step) => step.agent),
      stepTimeoutMs: 3_600_000,
      timeoutMs: 86_400_000,
    },
    status: error ? 'failed' : 'succeeded',
    input: {},
    error,
    steps,
    product: 'gurukul',
    requestedBy: `key_${'f'.repeat(60)}`,
    createdAt: TIME,
    startedAt: TIME,
    finishedAt: TIME,
    deadline: 0,
    cancelRequested: false,
    record: null,
  };
}

function succeeded(index: number): RunStep {
  const name = stepArtifactName(ID, index, LONGEST_NAME);
  const audit = { leafIndex: Number.MAX_SAFE_INTEGER, leafHash: 'f'.repeat(64) };
  const artifact = { product: 'core', class: 'agent_output', name, version: 1, audit };
  return { agent: LONGEST_NAME, status: 'succeeded', startedAt: TIME, finishedAt: TIME, artifact };
}

function failed(): RunStep {
  const error = { code: 'invalid_output', message: NASTY };
  return { agent: LONGEST_NAME, status: 'failed', startedAt: TIME, finishedAt: TIME, error };
}

const size = (record: unknown) => Buffer.byteLength(JSON.stringify(record));
const agents = Array.from({ length: MAX_BASKET_AGENTS }, (_, index) => index);

describe('execution_record size', () => {
  it('caps baskets at MAX_BASKET_AGENTS agents', () => {
    const schema = BASKET_SCHEMA['properties'] as { agents: { maxItems: number } };
    expect(schema.agents.maxItems).toBe(MAX_BASKET_AGENTS);
  });

  it('fits the largest basket whose steps all succeeded', () => {
    const record = executionRecord(run(agents.map(succeeded), null));
    expect(size(record)).toBeLessThanOrEqual(EXECUTION_RECORD_MAX_BYTES);
    expect(record['steps']).toHaveLength(MAX_BASKET_AGENTS);
  });

  it.each([
    ['every step failed', () => failed()],
    [
      'the last step failed',
      (index: number) => (index === agents.length - 1 ? failed() : succeeded(index)),
    ],
  ])('fits the largest basket when %s with huge messages, keeping the codes', (_, step) => {
    const error = { code: 'invalid_output', message: `step 1 (${LONGEST_NAME}): ${NASTY}` };
    const record = executionRecord(run(agents.map(step), error));
    expect(size(record)).toBeLessThanOrEqual(EXECUTION_RECORD_MAX_BYTES);
    const steps = record['steps'] as RunStep[];
    expect(steps.filter((s) => s.error?.code === 'invalid_output').length).toBeGreaterThan(0);
    expect(record['error']).toMatchObject({ code: 'invalid_output' });
  });

  it('keeps a usual error message whole', () => {
    const message = 'step 2 (sanskrit_parser): input of sanskrit_parser: / must have property text';
    const steps = [succeeded(0), { ...failed(), error: { code: 'invalid_input', message } }];
    const record = executionRecord(run(steps, { code: 'invalid_input', message }));
    expect(record['error']).toEqual({ code: 'invalid_input', message });
    expect((record['steps'] as RunStep[])[1]?.error?.message).toBe(message);
  });
});
