/**
 * The native API under fire (SPEC §3): a fast-check property sends every route the app registers
 * hostile requests — broken keys, paths, query strings, headers and bodies (test/helpers/
 * fuzz-native.ts) — in-process through `inject`, and holds that each answer is a 4xx in the error
 * envelope or a success (never a 5xx beyond the documented 503/507 states), comes within seconds,
 * and leaves the server healthy. Bounded by FUZZ_RUNS (default 150) and seeded by FUZZ_SEED
 * (default fixed): `FUZZ_RUNS=5000 FUZZ_SEED=$RANDOM npx vitest run <this file>` to hunt;
 * FUZZ_STATS=1 tallies the answers' (status, code), FUZZ_TRACE=1 prints every exchange.
 */
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answerProblem,
  describeRequest,
  injectOptions,
  requestArbitrary,
} from '../helpers/fuzz-native-requests.js';
import { fuzzRoutes, type OpenApiDocument } from '../helpers/fuzz-native.js';
import {
  client,
  createKey,
  startTestServer,
  withoutEscalation,
  type InProcessTestServer,
} from '../helpers/server.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 150);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_260_517);
/** An answer slower than this is a hang (the slowest honest route here takes milliseconds). */
const HANG_MS = 5000;

/** Routes that answer a stream that never ends by itself (SSE): read only their status. */
const STREAMING = /^\/v1\/events\/stream/;

async function injectWithin(
  server: InProcessTestServer,
  options: InjectOptions,
): Promise<LightMyRequestResponse> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([server.app.inject(options), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** With FUZZ_STATS set, how often each (status, code) came back: to see what a run reached. */
const answers = new Map<string, number>();
function tally(answer: string): void {
  if (process.env['FUZZ_STATS']) answers.set(answer, (answers.get(answer) ?? 0) + 1);
}

describe('the native API under hostile requests', () => {
  let server: InProcessTestServer;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer();
    const owner = client(server.url, server.ownerKey);
    // Hostile requests are full of CRITICAL detections: without this the fuzzed keys would be
    // suspended after three, and every later answer would be the same 403.
    await withoutEscalation(server, 'fuzz test: no escalation');
    keys['owner'] = server.ownerKey;
    keys['product'] = (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key;
    keys['agent'] = (await createKey(server, { kind: 'ai_agent', product: 'ai_assistant' })).key;
    keys['executor'] = (await createKey(server, { kind: 'executor' })).key;
    keys['auditor'] = (await createKey(server, { kind: 'auditor' })).key;
    const revoked = await createKey(server, { kind: 'product', product: 'ai_assistant' });
    expect((await owner('DELETE', `/v1/keys/${revoked.id}`)).status).toBe(200);
    keys['revoked'] = revoked.key;
    const seeded = await client(server.url, keys['product'])(
      'PUT',
      '/v1/artifacts/ai_assistant/metadata/fuzz/existing',
      { body: { seeded: true } },
    );
    expect(seeded.status).toBe(201);
  });
  afterAll(async () => {
    if (answers.size > 0) console.log([...answers].sort((a, b) => b[1] - a[1]));
    await server?.dispose();
  });

  it('judges answers as SPEC §3 says (the property below can fail)', () => {
    const json = { 'content-type': 'application/json; charset=utf-8' };
    const envelope = (code: string) =>
      JSON.stringify({ error: { code, message: 'm', requestId: 'req_1' } });
    expect(answerProblem('GET', '/v1/keys', 500, json, envelope('internal_error'))).toMatch(/500/);
    expect(answerProblem('GET', '/v1/keys', 503, json, envelope('gate_unavailable'))).not.toBe(
      null,
    );
    expect(answerProblem('GET', '/v1/keys', 400, json, '{"message":"bad"}')).toMatch(/envelope/);
    expect(answerProblem('GET', '/v1/keys', 503, json, envelope('bucket_halted'))).toBeNull();
    expect(answerProblem('GET', '/v1/keys', 404, json, envelope('not_found'))).toBeNull();
    expect(answerProblem('HEAD', '/v1/keys', 404, {}, '')).toBeNull();
  });

  it(`answers every hostile request in the SPEC §3 envelope, never 5xx (seed ${SEED})`, async () => {
    const routes = fuzzRoutes(
      server.app.gateBindings,
      server.app.swagger() as unknown as OpenApiDocument,
    );
    expect(routes.length).toBeGreaterThan(100);
    await fc.assert(
      fc.asyncProperty(requestArbitrary(routes), async (request) => {
        const options = injectOptions(request, keys);
        const streaming = STREAMING.test(request.path);
        const answer = await injectWithin(server, { ...options, payloadAsStream: streaming });
        let text = '';
        if (!streaming) text = answer.body;
        else if (answer.statusCode < 300) answer.stream().destroy();
        else for await (const chunk of answer.stream()) text += String(chunk);
        const label = `${describeRequest(request)} → ${answer.statusCode} ${text.slice(0, 300)}`;
        const problem = answerProblem(
          request.method,
          request.path,
          answer.statusCode,
          answer.headers,
          text,
        );
        tally(`${answer.statusCode} ${/"code":"([a-z_0-9]+)"/.exec(text)?.[1] ?? ''}`);
        if (process.env['FUZZ_TRACE']) console.log(label.slice(0, 700));
        expect(problem, label).toBeNull();
        const health = await injectWithin(server, { method: 'GET', url: '/health' });
        expect(health.statusCode, `health after ${label}`).toBe(200);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, 120_000);
});
