/**
 * What the audit suites over HTTP (test/e2e/audit*.test.ts) share: one server per file with the
 * owner, two products, an auditor and core (live bindings, set once its beforeAll has run).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from './server.js';

export const JSON_HEADERS = { 'content-type': 'application/json' };
export const leafHashOf = (canonical: string) =>
  createHash('sha256')
    .update(Buffer.concat([Buffer.from([0]), Buffer.from(canonical, 'utf8')]))
    .digest('hex');
export const hexes = (list: string[]) => list.map((h) => Buffer.from(h, 'hex'));

/** The file's server and its parties; set by the beforeAll of `startAuditServer`. */
export let server: TestServer;
export let owner: ReturnType<typeof client>;
export let assistant: ReturnType<typeof client>;
export let assistantKey: { key: string; id: string };
export let avatar: ReturnType<typeof client>;
export let auditor: ReturnType<typeof client>;
export let core: ReturnType<typeof client>;

/** Starts the file's server (beforeAll where it is called) with its parties' keys. */
export function startAuditServer(): void {
  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    assistantKey = await createKey(server, { kind: 'product', product: 'ai_assistant' });
    assistant = client(server.url, assistantKey.key);
    avatar = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    auditor = client(server.url, (await createKey(server, { kind: 'auditor' })).key);
    // Core's basket_config is the class that allows DELETE.
    core = client(server.url, (await createKey(server, { kind: 'core' })).key);
  });
  afterAll(async () => server?.dispose());
}

/** The entries `api` is shown for `query` (GET /v1/audit/entries). */
export const entriesOf = async (api: ReturnType<typeof client>, query: string) => {
  const answer = await api('GET', `/v1/audit/entries?${query}`);
  expect(answer.status, answer.bytes.toString()).toBe(200);
  return answer.json.entries as { index: number; entry: any; canonical: string }[];
};
