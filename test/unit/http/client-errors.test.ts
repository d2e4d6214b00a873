/**
 * Errors a client can cause (SPEC §3): a 4xx in the error envelope, never a 500 or Fastify's own
 * body, and no error-level log line (issue 16, items 2 and 4).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, startInProcess, type InProcessServer } from '../../helpers/in-process.js';

describe('errors a client can cause', () => {
  let server: InProcessServer;

  beforeAll(async () => {
    server = await startInProcess();
  });
  afterAll(async () => server?.dispose());

  describe('path parameters over the length limit (item 2)', () => {
    const long = 'a'.repeat(3000);
    it.each([
      ['DELETE', '/v1/keys/{long}', `/v1/keys/${long}`],
      ['POST', '/v1/keys/{long}/reinstate', `/v1/keys/${long}/reinstate`],
      ['GET', '/v1/artifacts/{long}', `/v1/artifacts/${long}`],
      ['GET', '/v1/artifacts/ai_avatar/{long}/name', `/v1/artifacts/ai_avatar/${long}/name`],
      ['DELETE', '/v1/integrations/{long}', `/v1/integrations/${long}`],
      ['GET', '/v1/audit/entries/{long}', `/v1/audit/entries/${long}`],
      ['GET', '/v1/governance/policy/versions/{long}', `/v1/governance/policy/versions/${long}`],
    ])('%s %s answers 414 in the envelope, logged below error', async (method, _label, url) => {
      const before = server.errorMessages().length;
      const answer = await server.running.app.inject({ method: method as 'GET', url });
      expect(answer.statusCode).toBe(414);
      expect(answer.json()).toEqual(envelope('uri_too_long'));
      // The answer does not echo the whole path back.
      expect(answer.body.length).toBeLessThan(1000);
      expect(server.errorMessages().length).toBe(before);
    });
  });
});
