/**
 * The event bus over real HTTP (SPEC §10): every change announces itself as a CloudEvent with a
 * gap-free cursor and the index of its audit entry; pages and Server-Sent Event streams (resumed
 * with Last-Event-ID without gaps or duplicates); who sees which events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../helpers/http.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';
import { SseReader } from '../helpers/sse.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const CLOUD_EVENT_MEMBERS = [
  'auditindex',
  'bucketproduct',
  'data',
  'datacontenttype',
  'id',
  'source',
  'specversion',
  'subject',
  'time',
  'type',
].sort();

type Api = ReturnType<typeof client>;
describe('the event bus', () => {
  let server: TestServer;
  let owner: Api;
  let assistant: Api;
  let avatar: Api;
  let auditor: Api;
  let core: Api;
  let agentKey: string;
  let source: string;

  beforeAll(async () => {
    server = await startTestServer({ bucket: { eventHeartbeatMs: 50 } });
    owner = client(server.url, server.ownerKey);
    assistant = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
    );
    avatar = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    auditor = client(server.url, (await createKey(server, { kind: 'auditor' })).key);
    core = client(server.url, (await createKey(server, { kind: 'core' })).key);
    agentKey = (await createKey(server, { kind: 'ai_agent', product: 'ai_assistant' })).key;
    // The source names the installation, as the audit log's default origin does.
    source = (await owner('GET', '/v1/audit/checkpoint')).json.origin;
  });
  afterAll(async () => server?.dispose());

  const page = async (api: Api, query = '') => {
    const answer = await api('GET', `/v1/events?limit=1000&${query}`);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    return answer.json as { events: any[]; nextCursor: string };
  };
  const latest = async () => Number((await page(owner, 'since=0')).nextCursor);

  it('announces every artifact change with its audit entry, as pinned CloudEvents', async () => {
    const since = await latest();
    const basket = '/v1/artifacts/core/basket_config/events.json';
    const answers = [
      await core('PUT', basket, { body: '{"n":1}', headers: JSON_HEADERS }),
      await core('PUT', basket, { body: '{"n":2}', headers: JSON_HEADERS }),
      await core('DELETE', basket),
      await core('POST', `${basket}/restore`),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([201, 200, 204, 200]);
    const { events } = await page(owner, `since=${since}&type=bucket.artifact.`);
    expect(events.map((e) => e.type)).toEqual([
      'bucket.artifact.created',
      'bucket.artifact.versioned',
      'bucket.artifact.tombstoned',
      'bucket.artifact.restored',
    ]);
    expect(events.map((e) => e.auditindex)).toEqual(
      answers.map((answer) => Number(answer.headers.get('x-bucket-audit-leaf-index'))),
    );
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => Number(events[0].id) + i));
    for (const event of events) expect(Object.keys(event).sort()).toEqual(CLOUD_EVENT_MEMBERS);
    expect(events[0]).toMatchObject({
      specversion: '1.0',
      source,
      subject: 'core/basket_config/events.json',
      datacontenttype: 'application/json',
      bucketproduct: 'core',
      data: { product: 'core', class: 'basket_config', name: 'events.json', version: 1 },
    });
    expect(source).toMatch(/^bhiv-bucket\/[0-9a-f]+$/);
    // Metadata only: the content is not in the event.
    expect(JSON.stringify(events)).not.toContain('"n"');
    // The entry the event points at is the change's own.
    const entry = (await owner('GET', `/v1/audit/entries/${events[2].auditindex}`)).json.entry;
    expect(entry).toMatchObject({ operation: 'DELETE', allow: true, version: 3 });
  });

  it('announces key, integration and policy changes', async () => {
    const since = await latest();
    const created = await createKey(server, { kind: 'product', product: 'gurukul' });
    expect((await owner('DELETE', `/v1/keys/${created.id}`)).status).toBeLessThan(300);
    const { document } = (await owner('GET', '/v1/governance/policy')).json;
    const changed = await owner('PUT', '/v1/governance/policy', {
      body: {
        document: {
          ...document,
          limits: { ...document.limits, maxArtifacts: document.limits.maxArtifacts + 1 },
        },
        reason: 'events test',
      },
    });
    expect(changed.status).toBe(200);
    const types = (await page(owner, `since=${since}`)).events.map((e) => [e.type, e.subject]);
    expect(types).toEqual(
      expect.arrayContaining([
        ['bucket.integration.approved', created.integrationId],
        ['bucket.key.created', created.id],
        ['bucket.key.revoked', created.id],
        ['bucket.policy.changed', `policy/${changed.json.version}`],
      ]),
    );
  });

  it('leaves no event for a change that failed', async () => {
    const since = await latest();
    // Racing creations of one name: each is decided against no head, one commits, the others
    // fail at their commit (a conflict after the allow) or are refused.
    const name = '/v1/artifacts/core/basket_config/race.json';
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        core('PUT', name, {
          body: JSON.stringify({ n }),
          headers: { ...JSON_HEADERS, 'if-none-match': '*' },
        }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    const after = await page(owner, `since=${since}&type=bucket.artifact.`);
    expect(after.events.map((e) => e.subject)).toEqual(['core/basket_config/race.json']);
  });

  it('shows a product key its own product’s events only; oversight keys see all', async () => {
    await avatar('PUT', '/v1/artifacts/ai_avatar/avatar_config/mine.json', {
      body: '{}',
      headers: JSON_HEADERS,
    });
    await assistant('PUT', '/v1/artifacts/ai_assistant/metadata/mine.json', {
      body: '{}',
      headers: JSON_HEADERS,
    });
    const products = (events: any[]) => new Set(events.map((e) => e.bucketproduct));
    expect(products((await page(avatar)).events)).toEqual(new Set(['ai_avatar']));
    expect(products((await page(assistant)).events)).toEqual(new Set(['ai_assistant']));
    // Asking for another product's events is an identity claim the gate refuses (T1).
    const claimer = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    expect((await claimer('GET', '/v1/events?product=ai_assistant')).status).toBe(403);
    expect((await page(avatar, 'product=ai_avatar')).events.length).toBeGreaterThan(0);
    const all = products((await page(auditor)).events);
    expect(all.has('ai_avatar') && all.has('ai_assistant') && all.has(null)).toBe(true);
    expect((await page(owner, 'product=ai_avatar')).events.length).toBeGreaterThan(0);
    const agent = await client(server.url, agentKey)('GET', '/v1/events');
    expect(agent.status).toBe(403);
    expect((await client(server.url)('GET', '/v1/events')).status).toBe(401);
  });

  it('pages with nextCursor, missing none and repeating none', async () => {
    const all = (await page(owner)).events.map((e) => Number(e.id));
    expect(all).toEqual(all.map((_, i) => i + 1));
    const seen: number[] = [];
    let cursor = '0';
    for (let i = 0; i < 100 && seen.length < all.length; i++) {
      const answer = await owner('GET', `/v1/events?since=${cursor}&limit=7`);
      seen.push(...answer.json.events.map((e: any) => Number(e.id)));
      cursor = answer.json.nextCursor;
    }
    expect(seen).toEqual(all);
    expect((await owner('GET', '/v1/events?limit=1001')).status).toBe(400);
    expect((await owner('GET', '/v1/events?since=abc')).status).toBe(400);
  });

  it('streams events as they commit, and resumes after Last-Event-ID without gaps or duplicates', async () => {
    const start = await latest();
    const stream = await SseReader.open(
      `${server.url}/v1/events/stream?since=${start}`,
      server.ownerKey,
    );
    expect(stream.status).toBe(200);
    expect(stream.contentType).toContain('text/event-stream');
    const write = (n: number) =>
      assistant('PUT', `/v1/artifacts/ai_assistant/metadata/stream-${n}.json`, {
        body: '{}',
        headers: JSON_HEADERS,
      });
    await Promise.all([1, 2, 3].map(write));
    const first = await stream.events(3);
    expect(first.map((e) => e.id)).toEqual([start + 1, start + 2, start + 3]);
    expect(first.every((e) => e.type === e.event.type && String(e.id) === e.event.id)).toBe(true);
    // An idle stream carries comment lines.
    await stream.next((frame) => frame.comment === 'keep-alive');
    stream.close();

    await Promise.all([4, 5, 6, 7].map(write));
    const resumed = await SseReader.open(
      `${server.url}/v1/events/stream?since=0`,
      server.ownerKey,
      {
        'last-event-id': String(start + 3),
      },
    );
    const rest = await resumed.events(4);
    expect(rest.map((e) => e.id)).toEqual([start + 4, start + 5, start + 6, start + 7]);
    resumed.close();
  });

  it('counts the events written and the open streams in /metrics', async () => {
    const stream = await SseReader.open(`${server.url}/v1/events/stream`, server.ownerKey);
    await stream.next((frame) => frame.comment !== undefined);
    const metrics = (await client(server.url)('GET', '/metrics')).bytes.toString();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect(value('bucket_events_written_total')).toBe(await latest());
    expect(value('bucket_event_stream_subscribers')).toBeGreaterThanOrEqual(1);
    stream.close();
    // A client that goes ends its stream on the server: nothing keeps reading for it.
    let open = 1;
    while (open > 0) {
      await sleep(20);
      const scraped = (await client(server.url)('GET', '/metrics')).bytes.toString();
      open = Number(/^bucket_event_stream_subscribers (\d+)$/m.exec(scraped)?.[1]);
    }
    expect(open).toBe(0);
  });

  it('streams a product key its own product’s events of the type asked for', async () => {
    const start = await latest();
    const stream = await SseReader.open(
      `${server.url}/v1/events/stream?since=${start}&type=bucket.artifact.created`,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    await assistant('PUT', '/v1/artifacts/ai_assistant/metadata/not-for-avatar.json', {
      body: '{}',
      headers: JSON_HEADERS,
    });
    await avatar('PUT', '/v1/artifacts/ai_avatar/avatar_config/for-avatar.json', {
      body: '{}',
      headers: JSON_HEADERS,
    });
    const [event] = await stream.events(1);
    expect(event?.event).toMatchObject({
      type: 'bucket.artifact.created',
      bucketproduct: 'ai_avatar',
      subject: 'ai_avatar/avatar_config/for-avatar.json',
    });
    stream.close();
  });
});
