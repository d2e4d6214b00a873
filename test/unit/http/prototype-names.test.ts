/**
 * Names that are Object.prototype members (`__proto__`, `constructor`, `toString`) are names like
 * any other (issue 16, item 3): an unknown product is 404 (or 400), never a gate fault, a 500 or
 * an empty listing, and no lookup by name reaches Object.prototype.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, startInProcess, type InProcessServer } from '../../helpers/in-process.js';
import { COMPLIANT_SCHEMA, createKey } from '../../helpers/server.js';

describe('prototype names', () => {
  let server: InProcessServer;
  let owner: string;
  let auditor: string;
  let executor: string;

  beforeAll(async () => {
    server = await startInProcess();
    owner = `Bearer ${server.ownerKey}`;
    auditor = `Bearer ${(await createKey(server.asTestServer(), { kind: 'auditor' })).key}`;
    executor = `Bearer ${(await createKey(server.asTestServer(), { kind: 'executor' })).key}`;
  });
  afterAll(async () => server?.dispose());

  /** Status and error code of `method url` with `authorization`. */
  const outcome = async (method: 'GET' | 'HEAD', url: string, authorization: string) => {
    const answer = await server.running.app.inject({ method, url, headers: { authorization } });
    return {
      status: answer.statusCode,
      code: method === 'GET' ? (answer.json().error?.code as string) : null,
    };
  };

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'a product named %s is answered as any unknown product, for owner, executor and auditor',
    async (product) => {
      expect(await outcome('HEAD', `/v1/artifacts/${product}/x/y`, owner)).toEqual({
        status: 404,
        code: null,
      });
      for (const authorization of [owner, executor, auditor]) {
        for (const method of ['GET', 'HEAD'] as const) {
          for (const rest of ['x/y', 'metadata/y']) {
            expect(
              await outcome(method, `/v1/artifacts/${product}/${rest}`, authorization),
            ).toEqual(await outcome(method, `/v1/artifacts/nobody/${rest}`, authorization));
          }
        }
      }
    },
  );

  it.each(['__proto__', 'constructor', 'valueOf'])(
    'GET /v1/artifacts/%s is 404, not an empty listing',
    async (product) => {
      const answer = await server.running.app.inject({
        method: 'GET',
        url: `/v1/artifacts/${product}`,
        headers: { authorization: owner },
      });
      expect(answer.statusCode).toBe(404);
      expect(answer.json()).toEqual(envelope('product_not_found'));
    },
  );

  it.each(['constructor', '__proto__', 'toString'])(
    'validate-integration for product "%s" rejects it as unknown',
    async (productName) => {
      const answer = await server.running.app.inject({
        method: 'POST',
        url: '/governance/gate/validate-integration',
        headers: { authorization: owner, 'content-type': 'application/json' },
        payload: {
          integrationId: `proto-${productName.length}`,
          integrationType: 'api_client',
          productName,
          artifactClasses: ['metadata'],
          dataSchema: COMPLIANT_SCHEMA,
        },
      });
      expect(answer.statusCode).toBe(403);
      expect(answer.json().reasons).toContainEqual({
        rule: 'unknown_product',
        message: expect.any(String),
      });
    },
  );

  it.each(['constructor', '__proto__'])(
    'a product key for product "%s" is 400',
    async (product) => {
      const answer = await server.running.app.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: { authorization: owner, 'content-type': 'application/json' },
        payload: { name: 'proto', kind: 'product', product },
      });
      expect(answer.statusCode).toBe(400);
      expect(answer.json()).toEqual(envelope('invalid_request'));
    },
  );

  it('validate-operation for class "constructor" is a decision, not a fault', async () => {
    const answer = await server.running.app.inject({
      method: 'POST',
      url: '/governance/gate/validate-operation',
      headers: { authorization: owner, 'content-type': 'application/json' },
      payload: {
        integrationId: 'none',
        operationType: 'CREATE',
        artifactClass: 'constructor',
        dataSize: 1,
        product: '__proto__',
      },
    });
    expect(answer.statusCode).toBe(403);
    expect(answer.json().decision.status).toBeLessThan(500);
    expect(server.errorMessages()).toEqual([]);
  });
});
