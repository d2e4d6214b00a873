/**
 * One step's call of an agent (SPEC §11): its input checked against the agent's input schema, the
 * agent run within its time limit (the step's, the agent's and the run's deadline, whichever is
 * first) and cut short on cancel, its output checked against its output schema. An http agent is
 * a POST of its input under the egress rules with `Idempotency-Key: <runId>:<step>`, no
 * redirects; a built-in that calls a remote service does so only through its configured endpoint.
 */
import { EgressRefused, exchangeOut, type Resolver } from '../services/egress.js';
import {
  AgentFailure,
  type AgentContext,
  type JsonObject,
  type RemoteCaller,
} from './agents/types.js';
import type { ResolvedAgent } from './catalog.js';
import { schemaErrors } from './schemas.js';

/** The most bytes of an http agent's answer (the agent_output class maximum, SPEC §2.2). */
const MAX_ANSWER_BYTES = 10 * 1024 * 1024;

export interface InvokeOptions {
  readonly runId: string;
  /** The step's 1-based number (the idempotency key's second part). */
  readonly step: number;
  readonly today: string;
  readonly timeoutMs: number;
  /**
   * Aborted with the reason the step must stop: 'cancelled', 'timed_out', 'sibling_failed' (a
   * parallel step that failed first), or the node's own.
   */
  readonly signal: AbortSignal;
  readonly egressAllow: readonly string[];
  /** Endpoints configured for the remote-calling built-ins, by agent name. */
  readonly endpoints: Readonly<Record<string, string>>;
  readonly resolver?: Resolver | undefined;
}

function asObject(value: unknown): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AgentFailure('invalid_output', 'the agent did not answer a JSON object');
  }
  return value as JsonObject;
}

function describeFailure(error: unknown, timeoutMs: number, signal: AbortSignal): AgentFailure {
  if (signal.aborted) {
    const reason = String(signal.reason);
    if (reason === 'cancelled') return new AgentFailure('cancelled', 'the run was cancelled');
    if (reason === 'sibling_failed') {
      return new AgentFailure('cancelled', 'another step of this parallel run failed first');
    }
    if (reason === 'timed_out') {
      return new AgentFailure('run_timeout', "the run's overall time limit passed");
    }
    return new AgentFailure('interrupted', reason);
  }
  if (error instanceof AgentFailure) return error;
  if (error instanceof EgressRefused) return new AgentFailure('egress_refused', error.message);
  const message = (error as Error).message ?? String(error);
  if (message.startsWith('no answer within')) {
    return new AgentFailure('step_timeout', `no answer within ${timeoutMs} ms`);
  }
  const code = (error as NodeJS.ErrnoException).code;
  return new AgentFailure('agent_error', code ? `${code}: ${message}` : message);
}

/** A JSON POST/GET under the egress rules; the answer parsed (null when it is not JSON). */
async function callJson(
  url: string,
  method: 'GET' | 'POST',
  body: unknown,
  headers: Record<string, string>,
  options: InvokeOptions,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  const answer = await exchangeOut({
    url,
    method,
    body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
    headers,
    allow: options.egressAllow,
    timeoutMs,
    resolver: options.resolver,
    signal: options.signal,
    maxAnswerBytes: MAX_ANSWER_BYTES,
    userAgent: 'bhiv-bucket-core',
  });
  if (answer.status >= 300 && answer.status < 400) {
    throw new AgentFailure('agent_redirect', `HTTP ${answer.status}: redirects are not followed`);
  }
  let parsed: unknown = null;
  try {
    parsed = answer.body.length > 0 ? JSON.parse(answer.body.toString('utf8')) : null;
  } catch {
    parsed = null;
  }
  return { status: answer.status, body: parsed };
}

/** Rejects when the time limit passes or the signal aborts, whichever is first. */
function bounded<T>(work: Promise<T>, timeoutMs: number, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new AgentFailure('step_timeout', `no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

export async function invokeAgent(
  resolved: ResolvedAgent,
  input: unknown,
  options: InvokeOptions,
): Promise<JsonObject> {
  const described = resolved.kind === 'builtin' ? resolved.agent : resolved.spec;
  const timeoutMs = Math.max(1, Math.min(options.timeoutMs, described.timeoutMs));
  const inputProblem = schemaErrors(described.inputSchema, input);
  if (inputProblem !== null) {
    throw new AgentFailure('invalid_input', `input of ${described.name}: ${inputProblem}`);
  }
  if (options.signal.aborted) throw describeFailure(null, timeoutMs, options.signal);
  const key = { 'idempotency-key': `${options.runId}:${options.step}` };
  try {
    let output: JsonObject;
    if (resolved.kind === 'http') {
      const answer = await callJson(resolved.spec.endpoint, 'POST', input, key, options, timeoutMs);
      if (answer.status < 200 || answer.status >= 300) {
        throw new AgentFailure('agent_http_error', `the agent answered HTTP ${answer.status}`);
      }
      if (answer.body === null) {
        throw new AgentFailure('invalid_output', 'the agent did not answer JSON');
      }
      output = asObject(answer.body);
    } else {
      const endpoint = Object.hasOwn(options.endpoints, resolved.agent.name)
        ? options.endpoints[resolved.agent.name]
        : undefined;
      const remote: RemoteCaller | null =
        resolved.agent.remote && endpoint
          ? (request) =>
              callJson(
                endpoint.replace(/\/$/, '') + request.path,
                request.method,
                request.body,
                key,
                options,
                timeoutMs,
              )
          : null;
      const ctx: AgentContext = { today: options.today, remote };
      output = asObject(
        await bounded(
          Promise.resolve(resolved.agent.run(input as JsonObject, ctx)),
          timeoutMs,
          options.signal,
        ),
      );
    }
    const outputProblem = schemaErrors(described.outputSchema, output);
    if (outputProblem !== null) {
      throw new AgentFailure('invalid_output', `output of ${described.name}: ${outputProblem}`);
    }
    return output;
  } catch (error) {
    throw describeFailure(error, timeoutMs, options.signal);
  }
}
