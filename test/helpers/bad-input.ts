/**
 * What the bad-input suites (test/e2e/bad-input*.test.ts) share: one server per file with keys of
 * two products (live bindings, set once its beforeAll has run), raw requests, the SPEC §3 envelope.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { rawRequest } from './http.js';
import { client, createKey, startTestServer, type TestServer } from './server.js';

export const META_BASE = '/v1/artifacts/ai_assistant/metadata';
export const META_MAX = 16 * 1024;

/** The SPEC §3 error envelope. */
export function expectEnvelope(answer: { json: any }, code: string): void {
  expect(answer.json).toEqual({
    error: expect.objectContaining({
      code,
      message: expect.any(String),
      requestId: expect.any(String),
    }),
  });
}

/** A JSON object of exactly `size` bytes. */
export function jsonOfSize(size: number): string {
  const shell = '{"pad":""}';
  return `{"pad":"${'x'.repeat(size - shell.length)}"}`;
}

/**
 * A body source that sends `before` bytes, then waits until `release()` — as a client would
 * that is still uploading when the server answers.
 */
export function stalledBody(before: AsyncIterable<Buffer>) {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  async function* source(): AsyncGenerator<Buffer> {
    yield* before;
    await released;
  }
  return { stream: source(), release };
}

/** The file's server and its parties; set by the beforeAll of `startBadInputServer`. */
export let server: TestServer;
export let assistantKey: string;
export let avatarKey: string;
export let assistant: ReturnType<typeof client>;
export let avatar: ReturnType<typeof client>;
export let owner: ReturnType<typeof client>;

/** Starts the file's server (beforeAll where it is called) with a key of two products. */
export function startBadInputServer(): void {
  beforeAll(async () => {
    server = await startTestServer();
    assistantKey = (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key;
    avatarKey = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
    assistant = client(server.url, assistantKey);
    avatar = client(server.url, avatarKey);
    owner = client(server.url, server.ownerKey);
  });
  afterAll(async () => server?.dispose());
}

/** A raw PUT as the ai_assistant key, JSON unless `headers` say otherwise. */
export const put = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  rawRequest(server.url, {
    method: 'PUT',
    path,
    key: assistantKey,
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
export const versionsStatus = async (path: string) =>
  (await rawRequest(server.url, { method: 'GET', path: `${path}/versions`, key: assistantKey }))
    .status;
