/**
 * Product isolation (SPEC §1, §3, §5 T1): a key of one product can neither read nor probe another
 * product's namespace — refused before any lookup, so the answer is the same whether or not the
 * target exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutIds } from '../helpers/http.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const TARGET = '/v1/artifacts/ai_avatar/avatar_config/private/persona.json';
const SECRET = { persona: 'only for ai_avatar', marker: 'c0ffee-4242' };

const PROBES: { label: string; method: string; path: string; body?: unknown }[] = [
  { label: 'read', method: 'GET', path: TARGET },
  { label: 'read an old version', method: 'GET', path: `${TARGET}?version=1` },
  { label: 'HEAD', method: 'HEAD', path: TARGET },
  { label: 'list the versions of', method: 'GET', path: `${TARGET}/versions` },
  { label: 'list', method: 'GET', path: '/v1/artifacts/ai_avatar' },
  { label: 'list by class', method: 'GET', path: '/v1/artifacts/ai_avatar?class=avatar_config' },
  { label: 'write', method: 'PUT', path: TARGET, body: { persona: 'overwritten' } },
  { label: 'delete', method: 'DELETE', path: TARGET },
  { label: 'restore', method: 'POST', path: `${TARGET}/restore` },
];

interface Probed {
  status: number;
  body: any;
  bucketHeaders: string[];
}

describe('product isolation', () => {
  let server: TestServer;
  let avatar: ReturnType<typeof client>;
  /**
   * One gurukul key per probe (asked twice), so that no key collects the three CRITICAL
   * detections that suspend it (SPEC §5) and every answer shows the isolation refusal itself.
   */
  const outsiders = new Map<string, ReturnType<typeof client>>();
  const beforeCreation = new Map<string, Probed>();

  async function outsider(kind: string, label: string) {
    let api = outsiders.get(`${kind} ${label}`);
    if (!api) {
      api = client(server.url, (await createKey(server, { kind, product: 'gurukul' })).key);
      outsiders.set(`${kind} ${label}`, api);
    }
    return api;
  }

  async function probe(who: string, label: string, method: string, path: string, body?: unknown) {
    const answer = await (await outsider(who, label))(method, path, { body });
    return {
      status: answer.status,
      body: answer.json,
      bucketHeaders: [...answer.headers.keys()].filter((h) => h.startsWith('x-bucket-')),
      text: answer.bytes.toString(),
    };
  }

  beforeAll(async () => {
    server = await startTestServer();
    avatar = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    // Probe while the target does not exist, then create it.
    for (const who of ['product', 'ai_agent']) {
      for (const { label, method, path, body } of PROBES) {
        beforeCreation.set(`${who} ${label}`, await probe(who, label, method, path, body));
      }
    }
    const put = await avatar('PUT', TARGET, { body: SECRET });
    expect(put.status).toBe(201);
  });
  afterAll(async () => server?.dispose());

  describe.each(['product', 'ai_agent'])('a gurukul %s key', (who) => {
    it.each(PROBES)(
      'may not $label an ai_avatar artifact (403, product_isolation, T1)',
      async (p) => {
        const answer = await probe(who, p.label, p.method, p.path, p.body);
        expect(answer.status).toBe(403);
        expect(answer.bucketHeaders).toEqual([]);
        expect(answer.text).not.toContain(SECRET.marker);
        if (p.method !== 'HEAD') {
          expect(answer.body.error.code).toBe('forbidden');
          const decision = answer.body.error.decision;
          expect(decision.allow).toBe(false);
          expect(decision.reasons.map((r: { rule: string }) => r.rule)).toContain(
            'product_isolation',
          );
          expect(decision.threats.map((t: { id: string }) => t.id)).toContain('T1');
        }
        // Exactly the answer it got before the artifact existed: nothing to learn by probing.
        const before = beforeCreation.get(`${who} ${p.label}`) as Probed;
        expect(answer.status).toBe(before.status);
        expect(answer.bucketHeaders).toEqual(before.bucketHeaders);
        expect(withoutIds(answer.body)).toEqual(withoutIds(before.body));
      },
    );
  });

  it('left the ai_avatar artifact untouched by every refused write', async () => {
    const versions = await avatar('GET', `${TARGET}/versions`);
    expect(versions.status).toBe(200);
    expect(versions.json.versions).toHaveLength(1);
    expect((await avatar('GET', TARGET)).json).toEqual(SECRET);
  });

  it('answers a gurukul key on an unknown product with 403, not 404', async () => {
    const answer = await probe(
      'product',
      'unknown product',
      'GET',
      '/v1/artifacts/no_such_product/x/y.json',
    );
    expect(answer.status).toBe(403);
    expect(answer.body.error.decision.threats.map((t: { id: string }) => t.id)).toContain('T1');
  });

  it('refuses a product claim in the query or metadata on the own namespace (403, T1)', async () => {
    const gurukul = await outsider('product', 'claims');
    const path = '/v1/artifacts/gurukul/user_progress/claims/1.json';
    const inQuery = await gurukul('GET', `${path}?product=ai_avatar`);
    expect(inQuery.status).toBe(403);
    expect(inQuery.json.error.decision.threats.map((t: { id: string }) => t.id)).toContain('T1');
    const inMeta = await gurukul('PUT', path, {
      body: { lesson: 1 },
      headers: { 'x-bucket-meta-product': 'ai_avatar' },
    });
    expect(inMeta.status).toBe(403);
    expect(inMeta.json.error.decision.threats.map((t: { id: string }) => t.id)).toContain('T1');
    expect((await gurukul('GET', `${path}/versions`)).status).toBe(404);
  });

  it('still serves a gurukul key on its own namespace', async () => {
    const gurukul = await outsider('product', 'own namespace');
    const path = '/v1/artifacts/gurukul/educational_content/lesson/1.md';
    const put = await gurukul('PUT', path, {
      body: '# Lesson 1',
      headers: { 'content-type': 'text/markdown' },
    });
    expect(put.status).toBe(201);
    expect((await gurukul('GET', path)).bytes.toString()).toBe('# Lesson 1');
  });
});
