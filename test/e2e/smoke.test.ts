import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

describe('a fresh server', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => server?.dispose());

  it('prints the owner key once and answers /health without a key', async () => {
    expect(server.output()).toMatch(/^owner key: bkt_/m);
    const health = await client(server.url)('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('healthy');
    expect(health.json.governance.policyVersion).toBe(1);
  });

  it('refuses a request without a key with 401 in the error envelope', async () => {
    const answer = await client(server.url)('GET', '/v1/keys');
    expect(answer.status).toBe(401);
    expect(answer.json.error.code).toBe('unauthenticated');
    expect(answer.json.error.requestId).toMatch(/^req_/);
  });

  it('round-trips a JSON artifact through a product key', async () => {
    const { key } = await createKey(server, { kind: 'product', product: 'ai_assistant' });
    const api = client(server.url, key);
    const put = await api('PUT', '/v1/artifacts/ai_assistant/metadata/run/1.json', {
      body: { model: 'x', tokens: 12 },
    });
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ version: 1, size: 25, createdBy: expect.any(String) });
    const get = await api('GET', '/v1/artifacts/ai_assistant/metadata/run/1.json');
    expect(get.status).toBe(200);
    expect(get.json).toEqual({ model: 'x', tokens: 12 });
    expect(get.headers.get('etag')).toBe(`"${put.json.sha256}"`);
  });
});
