/** Runs a built-in agent with its schemas checked on both sides (the Core unit tests). */
import { expect } from 'vitest';
import { BUILTIN_AGENTS } from '../../src/core/agents/index.js';
import type { JsonObject } from '../../src/core/agents/types.js';
import { schemaErrors } from '../../src/core/schemas.js';

export async function runAgent(name: string, input: JsonObject, today = '2026-12-04') {
  const agent = BUILTIN_AGENTS.get(name);
  if (!agent) throw new Error(`no agent ${name}`);
  expect(schemaErrors(agent.inputSchema, input)).toBeNull();
  const output = await agent.run(input, { today, remote: null });
  expect(schemaErrors(agent.outputSchema, output)).toBeNull();
  return output as Record<string, any>;
}

export function inputProblem(name: string, input: unknown): string | null {
  const agent = BUILTIN_AGENTS.get(name);
  if (!agent) throw new Error(`no agent ${name}`);
  return schemaErrors(agent.inputSchema, input);
}
