/**
 * validate-integration on data schemas the threat scan cannot read whole (issue 16, item 1):
 * refused like artifact bodies beyond the inspection bounds, never stored, never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcessServer } from '../../helpers/in-process.js';

describe('validate-integration and nesting', () => {
  let server: InProcessServer;
  let owner: string;

  beforeAll(async () => {
    server = await startInProcess();
    owner = `Bearer ${server.ownerKey}`;
  });
  afterAll(async () => server?.dispose());

  describe('a data schema that cannot be inspected whole (item 1)', () => {
    /** Proposes `dataSchema`, given as JSON text (JSON.stringify overflows on the deepest). */
    const propose = (integrationId: string, dataSchema: string) =>
      server.running.app.inject({
        method: 'POST',
        url: '/governance/gate/validate-integration',
        headers: { authorization: owner, 'content-type': 'application/json' },
        payload:
          `{"integrationId":"${integrationId}","integrationType":"api_client",` +
          `"productName":"ai_avatar","artifactClasses":["avatar_config"],` +
          `"dataSchema":${dataSchema}}`,
      });
    /** `inner` wrapped in `depth` levels of `{"n": …}`, as JSON text. */
    const nested = (depth: number, inner: string) =>
      `${'{"n":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;

    it.each([
      ['a password', '{"password":"hunter2hunter2"}'],
      ['a connection string', '"postgres://u:p@db/x"'],
      ['an AWS key id', '"AKIAABCDEFGHIJKLMNOP"'],
    ])('rejects %s nested 70 levels deep and stores nothing', async (_what, inner) => {
      const id = `deep-${inner.length}`;
      const answer = await propose(
        id,
        `{"nsfw_policy":"none","retention_policy":"class","deep":${nested(70, inner)}}`,
      );
      expect(answer.statusCode).toBe(403);
      expect(answer.json()).toMatchObject({ decision: 'rejected' });
      const stored = await server.running.app.inject({
        method: 'GET',
        url: `/v1/integrations/${id}`,
        headers: { authorization: owner },
      });
      expect(stored.statusCode).toBe(404);
    });

    it('answers a schema nested 5,000 levels deep with a 4xx', async () => {
      const answer = await propose(
        'deeper',
        `{"nsfw_policy":"none","retention_policy":"class","deep":${nested(5000, '{}')}}`,
      );
      expect(answer.statusCode).toBe(403);
      expect(answer.json()).toMatchObject({ decision: 'rejected' });
      expect(server.errorMessages()).toEqual([]);
    });
  });
});
