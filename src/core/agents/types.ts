/**
 * What a built-in agent is (SPEC §11): a name, a version, JSON Schemas for its input and output,
 * a time limit, and a function of its input and context. Built-ins are deterministic: the same
 * input (and `today`) gives the same output; remote-calling ones reach their configured endpoint
 * only through `ctx.remote` (the egress rules), else answer their offline result.
 */

/** A JSON Schema, as ajv takes it. */
export type JsonSchema = Readonly<Record<string, unknown>>;

export type JsonObject = Record<string, unknown>;

/** A call to an agent's configured endpoint, under the egress rules (services/egress.ts). */
export type RemoteCaller = (request: {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
}) => Promise<{ readonly status: number; readonly body: unknown }>;

export interface AgentContext {
  /** `YYYY-MM-DD`: the input's `today`, else the current date (SPEC §11). */
  readonly today: string;
  /** The configured endpoint of a remote-calling agent, or null: the offline result. */
  readonly remote: RemoteCaller | null;
}

export interface BuiltinAgent {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly inputSchema: JsonSchema;
  readonly outputSchema: JsonSchema;
  readonly timeoutMs: number;
  /** Whether it calls a remote service when an endpoint is configured for it. */
  readonly remote?: true;
  run(input: JsonObject, ctx: AgentContext): JsonObject | Promise<JsonObject>;
}

/** A step's failure the agent itself reports (bad input it could not see in its schema, HTTP). */
export class AgentFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AgentFailure';
  }
}

/** The optional top-level `today` every date-dependent agent accepts. */
export const TODAY_PROPERTY = {
  today: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
} as const;

/** Rounded to 2 decimal places, as the seed's `round(x, 2)`. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A remote answer that must be a JSON object, else the step fails. */
export function objectAnswer(answer: { status: number; body: unknown }): JsonObject {
  if (answer.status < 200 || answer.status >= 300) {
    throw new AgentFailure('agent_http_error', `the endpoint answered HTTP ${answer.status}`);
  }
  const body = answer.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AgentFailure('agent_bad_answer', 'the endpoint did not answer a JSON object');
  }
  return body as JsonObject;
}
