/**
 * Route schemas compiled on first use (decision record 0070): requests are validated, coerced and
 * answered as with Fastify's own compilers, and `compileAll()` builds whatever no request has
 * (test/unit/http/route-binding.test.ts runs it on the Bucket's app: every schema compiles).
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySchemas } from '../../../src/http/lazy-schemas.js';

function smallApp() {
  const schemas = lazySchemas();
  const app = Fastify({ schemaController: { compilersFactory: schemas.compilersFactory } });
  app.post(
    '/echo/:n',
    {
      schema: {
        params: { type: 'object', properties: { n: { type: 'integer' } } },
        querystring: {
          type: 'object',
          properties: { flag: { type: 'boolean' }, size: { type: 'integer', default: 7 } },
        },
        headers: {
          type: 'object',
          properties: { 'x-count': { type: 'integer' } },
          required: ['x-count'],
        },
        body: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        response: {
          200: {
            type: 'object',
            properties: { n: { type: 'integer' }, flag: {}, size: {}, count: {}, name: {} },
          },
        },
      },
    },
    async (request) => ({
      n: (request.params as { n: number }).n,
      ...(request.query as object),
      count: request.headers['x-count'],
      ...(request.body as object),
      secret: 'not in the response schema',
    }),
  );
  return { app, schemas };
}

describe('route schemas compiled on first use', () => {
  it('validates, coerces and serializes as Fastify does', async () => {
    const { app } = smallApp();
    const ok = await app.inject({
      method: 'POST',
      url: '/echo/5?flag=true',
      headers: { 'x-count': '3' },
      payload: { name: 'a' },
    });
    expect(ok.statusCode).toBe(200);
    // Types coerced, the default filled in, what the response schema omits left out.
    expect(ok.json()).toEqual({ n: 5, flag: true, size: 7, count: 3, name: 'a' });
    const badParam = await app.inject({
      method: 'POST',
      url: '/echo/five',
      headers: { 'x-count': '3' },
      payload: { name: 'a' },
    });
    expect(badParam.statusCode).toBe(400);
    expect(badParam.json().message).toMatch(/params\/n must be integer/);
    const noHeader = await app.inject({ method: 'POST', url: '/echo/5', payload: { name: 'a' } });
    expect(noHeader.statusCode).toBe(400);
    expect(noHeader.json().message).toMatch(/must have required property 'x-count'/);
    const badBody = await app.inject({
      method: 'POST',
      url: '/echo/5',
      headers: { 'x-count': '1' },
      payload: {},
    });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json().message).toMatch(/body must have required property 'name'/);
    await app.close();
  });

  it('builds at start nothing a request has not asked for; compileAll builds the rest', async () => {
    const { app, schemas } = smallApp();
    await app.ready();
    // Four validators (params, querystring, headers, body) and one serializer (200).
    expect(schemas.compileAll()).toBe(5);
    expect(schemas.compileAll()).toBe(0);
    await app.close();
  });

  it('lets compileAll, not a request, find a schema that does not compile', async () => {
    const schemas = lazySchemas();
    const app = Fastify({ schemaController: { compilersFactory: schemas.compilersFactory } });
    app.get(
      '/broken',
      { schema: { querystring: { type: 'object', properties: { a: { type: 'nonsense' } } } } },
      async () => ({}),
    );
    await app.ready();
    expect(() => schemas.compileAll()).toThrow(/nonsense|type/);
    await app.close();
  });
});
