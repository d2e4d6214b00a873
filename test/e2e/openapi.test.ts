/**
 * The self-description of the API: `GET /openapi.json` (an OpenAPI 3.1 document generated from
 * the route schemas), the `/docs` page, `/health`, and `GET /v1/governance/policy` (SPEC §2, §4.2).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The OpenAPI 3.1 document structure this suite relies on (OAS 3.1.0 §4.8), as a JSON Schema. */
const OPENAPI_31_STRUCTURE = {
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    info: {
      type: 'object',
      required: ['title', 'version'],
      properties: { title: { type: 'string' }, version: { type: 'string' } },
    },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        properties: Object.fromEntries(
          METHODS.map((method) => [
            method,
            {
              type: 'object',
              required: ['responses'],
              properties: {
                responses: {
                  type: 'object',
                  minProperties: 1,
                  propertyNames: { pattern: '^([1-5](\\d\\d|XX)|default)$' },
                  additionalProperties: {
                    type: 'object',
                    required: ['description'],
                    properties: { description: { type: 'string' } },
                  },
                },
                parameters: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['name', 'in'],
                    properties: {
                      name: { type: 'string' },
                      in: { enum: ['query', 'header', 'path', 'cookie'] },
                      required: { type: 'boolean' },
                    },
                    if: { properties: { in: { const: 'path' } } },
                    then: { required: ['required'], properties: { required: { const: true } } },
                  },
                },
                requestBody: {
                  type: 'object',
                  required: ['content'],
                  properties: { content: { type: 'object' } },
                },
              },
            },
          ]),
        ),
      },
    },
    components: { type: 'object' },
  },
};

/** Resolves a local JSON pointer (`#/a/b`) in `document`, or undefined. */
function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: any = document;
  for (const raw of ref.slice(2).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(part in node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Every `$ref` string anywhere in `value`. */
function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => refsIn(item, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push(child);
      else refsIn(child, found);
    }
  }
  return found;
}

/** A copy of `schema` with local refs inlined, so that it compiles on its own. */
function inlineRefs(document: unknown, schema: unknown, depth = 0): unknown {
  if (depth > 20) throw new Error('reference cycle');
  if (Array.isArray(schema)) return schema.map((item) => inlineRefs(document, item, depth));
  if (schema === null || typeof schema !== 'object') return schema;
  const record = schema as Record<string, unknown>;
  if (typeof record['$ref'] === 'string') {
    return inlineRefs(document, resolvePointer(document, record['$ref']), depth + 1);
  }
  return Object.fromEntries(
    Object.entries(record).map(([key, child]) => [key, inlineRefs(document, child, depth)]),
  );
}

describe('API description', () => {
  let server: TestServer;
  let document: any;

  beforeAll(async () => {
    server = await startTestServer();
    const answer = await client(server.url)('GET', '/openapi.json');
    expect(answer.status).toBe(200);
    document = answer.json;
  });
  afterAll(async () => server?.dispose());

  it('serves /openapi.json without a key as a structurally valid OpenAPI 3.1 document', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(OPENAPI_31_STRUCTURE);
    expect(validate(document), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(document.components.securitySchemes).toEqual(
      expect.objectContaining({ bearer: expect.objectContaining({ scheme: 'bearer' }) }),
    );
  });

  it('resolves every $ref, declares every path parameter, and has JSON Schemas that compile', () => {
    for (const ref of refsIn(document)) {
      expect(resolvePointer(document, ref), `unresolved ${ref}`).toBeDefined();
    }
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const [path, item] of Object.entries<any>(document.paths)) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      for (const method of METHODS.filter((m) => item[m])) {
        const operation = item[method];
        const declared = (operation.parameters ?? [])
          .filter((p: { in: string }) => p.in === 'path')
          .map((p: { name: string }) => p.name);
        expect(declared.sort(), `${method} ${path}`).toEqual([...templated].sort());
        const schemas = [
          ...(operation.parameters ?? []).map((p: { schema?: unknown }) => p.schema),
          ...Object.values<any>(operation.requestBody?.content ?? {}).map((c) => c.schema),
          ...Object.values<any>(operation.responses).flatMap((r) =>
            Object.values<any>(r.content ?? {}).map((c) => c.schema),
          ),
        ].filter((schema) => schema !== undefined);
        for (const schema of schemas) {
          expect(() => ajv.compile(inlineRefs(document, schema) as object)).not.toThrow();
        }
      }
    }
  });

  it('lists the artifact, key, policy and health routes', () => {
    const operations = Object.entries<any>(document.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const artifact = Object.keys(document.paths).find((path) =>
      /^\/v1\/artifacts\/\{product\}\/\{class\}\/\{[^}]+\}$/.test(path),
    );
    expect(artifact).toBeDefined();
    expect(operations).toEqual(
      expect.arrayContaining([
        `PUT ${artifact}`,
        `GET ${artifact}`,
        `DELETE ${artifact}`,
        `POST ${artifact}`,
        'GET /v1/artifacts/{product}',
        'POST /v1/keys',
        'GET /v1/keys',
        'DELETE /v1/keys/{id}',
        'GET /v1/governance/policy',
        'GET /health',
      ]),
    );
    // The write documents its answers, including the refusals a client must handle.
    expect(Object.keys(document.paths[artifact as string].put.responses)).toEqual(
      expect.arrayContaining(['200', '201', '400', '401', '403', '409', '412', '413', '415']),
    );
  });

  it('documents HEAD on artifacts, which SPEC §3 defines beside GET', () => {
    const artifact = Object.keys(document.paths).find((path) =>
      path.startsWith('/v1/artifacts/{product}/{class}/'),
    );
    expect(document.paths[artifact as string]?.head).toBeDefined();
  });

  it('serves the /docs page as HTML without a key', async () => {
    const docs = await fetch(`${server.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await docs.text()).toMatch(/<html/i);
  });

  it('answers /health without a key with live backend readings', async () => {
    const health = await client(server.url)('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({
      status: 'healthy',
      version: expect.any(String),
      governance: { gate: 'active', policyVersion: 1, mode: 'normal' },
      backends: {
        metadata: { ok: true, latencyMs: expect.any(Number) },
        blobs: { ok: true, latencyMs: expect.any(Number) },
        limiter: { ok: true, latencyMs: expect.any(Number) },
      },
    });
  });

  it('answers an unknown route with 404 in the error envelope', async () => {
    const answer = await client(server.url, server.ownerKey)('GET', '/v1/no/such/route');
    expect(answer.status).toBe(404);
    expect(answer.json.error).toMatchObject({ code: 'not_found', requestId: expect.any(String) });
  });

  describe('GET /v1/governance/policy', () => {
    it('returns {version, hash, document} with the default products, classes and limits', async () => {
      const { key } = await createKey(server, { kind: 'product', product: 'gurukul' });
      const policy = await client(server.url, key)('GET', '/v1/governance/policy');
      expect(policy.status).toBe(200);
      expect(Object.keys(policy.json).sort()).toEqual(['document', 'hash', 'version']);
      expect(policy.json.version).toBe(1);
      expect(policy.json.hash).toMatch(/^[0-9a-f]{64}$/);
      const { products, classes, rejectedClasses, limits } = policy.json.document;
      expect(Object.keys(products).sort()).toEqual(
        ['ai_assistant', 'ai_avatar', 'core', 'gurukul', 'workflow_engine'].sort(),
      );
      expect(products.ai_avatar).toMatchObject({
        displayName: 'AI Avatar',
        allowedClasses: expect.arrayContaining([
          'avatar_config',
          'model_checkpoint',
          'iteration_history',
          'persona_config',
        ]),
        forbiddenClasses: expect.arrayContaining(['access_control', 'governance_rule']),
        readOnly: false,
      });
      expect(products.workflow_engine.readOnly).toBe(true);
      expect(classes.model_checkpoint).toMatchObject({ maxBytes: 524288000 });
      expect(classes.basket_config.operations).toEqual(
        expect.arrayContaining(['CREATE', 'READ', 'UPDATE', 'DELETE']),
      );
      expect(rejectedClasses).toEqual(expect.arrayContaining(['user_credentials', 'payment_info']));
      expect(limits).toMatchObject({
        maxArtifactBytes: 524288000,
        writesPerSecond: 1000,
        readsPerSecond: 10000,
        concurrentWrites: 100,
        maxBatch: 500,
        listPageMax: 1000,
      });
    });

    it('gives every caller the same version and hash', async () => {
      const asOwner = await client(server.url, server.ownerKey)('GET', '/v1/governance/policy');
      const { key } = await createKey(server, { kind: 'auditor' });
      const asAuditor = await client(server.url, key)('GET', '/v1/governance/policy');
      expect(asAuditor.status).toBe(200);
      expect(asAuditor.json).toEqual(asOwner.json);
    });

    it('requires a key', async () => {
      expect((await client(server.url)('GET', '/v1/governance/policy')).status).toBe(401);
    });
  });
});
