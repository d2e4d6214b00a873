/**
 * A class schema's patterns are matched in linear time (src/policy/linear-regexp.ts): a pattern
 * that V8's backtracking engine takes hours over — the whole server with it — refuses the write
 * at once, and the server answers everything else meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  createKey,
  startTestServer,
  withoutEscalation,
  type TestServer,
} from '../helpers/server.js';

describe('class schema patterns', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;
  let writer: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startTestServer();
    // Schema violations are CRITICAL (T2): the writer makes more than three on purpose.
    await withoutEscalation(server, 'schema tests: no escalation');
    owner = client(server.url, server.ownerKey);
    writer = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
    );
  });
  afterAll(async () => server?.dispose());

  /** The live policy with the metadata class's schema replaced (and `change` made), PUT. */
  async function putMetadataSchema(
    schema: object,
    reason: string,
    change: (document: any) => void = () => undefined,
  ) {
    const { document } = (await owner('GET', '/v1/governance/policy')).json;
    document.classes.metadata.schema = schema;
    change(document);
    return owner('PUT', '/v1/governance/policy', { body: { document, reason } });
  }

  it('refuses a write a backtracking pattern would hang on, at once', async () => {
    const set = await putMetadataSchema(
      { type: 'object', properties: { b: { type: 'string', pattern: '^(a|a)*$' } } },
      'a pattern V8 would backtrack on',
    );
    expect(set.status).toBe(200);
    // In V8's engine this body alone holds the event loop for 7–50 s (hours at 40 a's).
    const refused = await writer('PUT', '/v1/artifacts/ai_assistant/metadata/backtrack', {
      body: { b: `${'a'.repeat(30)}b` },
    });
    expect(refused.status).toBe(422);
    expect(refused.json.error.message).toMatch(/must match pattern/);
    const kept = await writer('PUT', '/v1/artifacts/ai_assistant/metadata/backtrack', {
      body: { b: 'aaaa' },
    });
    expect(kept.status).toBe(201);
  }, 20_000);

  it('refuses a pattern that needs backtracking when the policy is set (400)', async () => {
    const live = (await owner('GET', '/v1/governance/policy')).json;
    const refused = await putMetadataSchema(
      { type: 'object', properties: { b: { type: 'string', pattern: '^(\\w)\\1$' } } },
      'a backreference',
    );
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('invalid_policy');
    expect(refused.json.error.details.errors[0].path).toBe('/classes/metadata/schema');
    expect((await owner('GET', '/v1/governance/policy')).json.version).toBe(live.version);
  });

  it('takes later policy versions and writes when a class schema has an $id', async () => {
    // Ajv keeps compiled schemas by $id: each check of a later version compiles it again.
    const withId = (required: string[]) => ({
      $id: 'https://schemas.example.com/assistant-metadata',
      type: 'object',
      required,
    });
    for (const [round, required] of [['a'], ['b'], ['b']].entries()) {
      const set = await putMetadataSchema(
        withId(required),
        `a class schema with an $id, requiring ${required}`,
        // Something else changes too, so that each round (the third's schema is the second's)
        // makes a version of its own.
        (document) =>
          (document.limits.listPageMax = document.limits.listPageMax === 1000 ? 999 : 1000),
      );
      expect(set.status, set.bytes.toString()).toBe(200);
      const path = `/v1/artifacts/ai_assistant/metadata/with-id-${round}`;
      const refused = await writer('PUT', path, {
        body: { other: 1 },
      });
      expect(refused.status, refused.bytes.toString()).toBe(422);
      const kept = await writer('PUT', path, {
        body: { [required[0] as string]: 1 },
      });
      expect(kept.status).toBe(201);
    }
  });
});
