/**
 * Policy management through real HTTP (SPEC §2): the owner replaces the policy, the very next
 * request obeys it; invalid documents are refused with the JSON path of each error; closed to
 * product and ai_agent keys before any body validation (T4); versions with their diffs, persisted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const threatIds = (body: any): string[] =>
  (body?.error?.decision?.threats ?? []).map((t: { id: string }) => t.id);

describe('governance policy API', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;
  let v1: { version: number; hash: string; document: any };
  let writer: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    v1 = (await owner('GET', '/v1/governance/policy')).json;
    writer = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
    );
  });
  afterAll(async () => server?.dispose());

  const put = (api: ReturnType<typeof client>, document: unknown, reason = 'test change') =>
    api('PUT', '/v1/governance/policy', { body: { document, reason } });

  it('starts at version 1, the shipped default', () => {
    expect(v1.version).toBe(1);
    expect(v1.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(v1.document.classes.metadata.maxBytes).toBe(16384);
  });

  it('applies an owner change on the very next request (a lower class maximum → 413)', async () => {
    const body = JSON.stringify({ note: 'x'.repeat(200) });
    const before = await writer('PUT', '/v1/artifacts/ai_assistant/metadata/before-change', {
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(before.status).toBe(201);

    const document = structuredClone(v1.document);
    document.classes.metadata.maxBytes = 100;
    const changed = await put(owner, document, 'smaller metadata records');
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ version: 2, changed: true });
    expect(changed.json.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(changed.json.hash).not.toBe(v1.hash);
    expect(changed.json.document.classes.metadata.maxBytes).toBe(100);

    const after = await writer('PUT', '/v1/artifacts/ai_assistant/metadata/after-change', {
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(after.status).toBe(413);
    expect(after.json.error.decision.policyVersion).toBe(2);
    const live = await owner('GET', '/v1/governance/policy');
    expect(live.json).toMatchObject({ version: 2, hash: changed.json.hash });

    // SPEC §2: the change is in the audit log with its diff — the version, its hash and the
    // JSON Patch (RFC 6902) that turns the version before into it.
    const { entries } = (await owner('GET', '/v1/audit/entries?principal=key_owner&limit=1000'))
      .json;
    const recorded = entries
      .map(({ entry }: { entry: any }) => entry)
      .filter((entry: any) => entry.requestId === changed.headers.get('x-request-id'));
    expect(recorded).toEqual([
      expect.objectContaining({
        allow: true,
        policy: {
          version: 2,
          hash: changed.json.hash,
          patch: [{ op: 'replace', path: '/classes/metadata/maxBytes', value: 100 }],
        },
      }),
    ]);
  });

  it('makes no version of the live document: 200 with the live version and changed: false', async () => {
    const before = (await owner('GET', '/v1/governance/policy')).json;
    const same = await put(owner, before.document, 'the same again');
    expect(same.status).toBe(200);
    expect(same.json).toEqual({ ...before, changed: false });
    const versions = (await owner('GET', '/v1/governance/policy/versions')).json.versions;
    expect(versions.at(-1)).toMatchObject({ version: before.version, hash: before.hash });
    expect(versions.map((v: { reason: string }) => v.reason)).not.toContain('the same again');
    // The request was still decided and recorded: an allow that changed nothing.
    const { entries } = (await owner('GET', '/v1/audit/entries?principal=key_owner')).json;
    const recorded = entries
      .map(({ entry }: { entry: any }) => entry)
      .filter((entry: any) => entry.requestId === same.headers.get('x-request-id'));
    expect(recorded).toEqual([
      expect.objectContaining({ allow: true, status: 200, policyVersion: before.version }),
    ]);
  });

  it('refuses an invalid document with 400 naming the JSON path of each error', async () => {
    const document = structuredClone(v1.document);
    document.limits.listPageMax = 'many';
    document.classes.metadata.operations = ['CREATE', 'TELEPORT'];
    document.surprise = true;
    const refused = await put(owner, document);
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('invalid_policy');
    const paths = refused.json.error.details.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/surprise',
        '/classes/metadata/operations/1',
        '/limits/listPageMax',
      ]),
    );
    for (const error of refused.json.error.details.errors) {
      expect(error.message).toEqual(expect.any(String));
    }
    // Cross-references are checked too, with their paths.
    const dangling = structuredClone(v1.document);
    dangling.products.gurukul.allowedClasses.push('no_such_class');
    const crossRef = await put(owner, dangling);
    expect(crossRef.status).toBe(400);
    expect(crossRef.json.error.details.errors).toEqual([
      { path: '/products/gurukul/allowedClasses/3', message: 'unknown class "no_such_class"' },
    ]);
    expect((await put(owner, 'not a policy')).status).toBe(400);
    expect((await owner('GET', '/v1/governance/policy')).json.version).toBe(2);
  });

  it('refuses class schemas that would overflow the stack with 400, changing nothing', async () => {
    const live = (await owner('GET', '/v1/governance/policy')).json;
    const withSchema = (schema: string) => {
      const document = structuredClone(live.document);
      document.classes.metadata.schema = 'SCHEMA';
      return JSON.stringify({ document, reason: 'hostile schema' }).replace('"SCHEMA"', schema);
    };
    const deep = `{"type":"object","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    for (const [schema, message] of [
      ['{"$ref":"#"}', /refers to itself without end/],
      ['{"allOf":[{"$ref":"#"}]}', /refers to itself without end/],
      [deep, /nested deeper than 64 levels/],
    ] as const) {
      const refused = await owner('PUT', '/v1/governance/policy', {
        body: withSchema(schema),
        headers: { 'content-type': 'application/json' },
      });
      const label = `${schema.slice(0, 40)}: ${refused.bytes.toString().slice(0, 200)}`;
      expect(refused.status, label).toBe(400);
      expect(refused.json.error.code).toBe('invalid_policy');
      expect(refused.json.error.details.errors).toEqual([
        { path: '/classes/metadata/schema', message: expect.stringMatching(message) },
      ]);
    }
    expect((await owner('GET', '/v1/governance/policy')).json.version).toBe(live.version);
    // The class still takes writes: no schema was installed that fails every decision closed.
    const written = await writer('PUT', '/v1/artifacts/ai_assistant/metadata/after-hostile', {
      body: { a: 1 },
    });
    expect(written.status).toBe(201);
  });

  it('requires a reason', async () => {
    const missing = await owner('PUT', '/v1/governance/policy', {
      body: { document: v1.document },
    });
    expect(missing.status).toBe(400);
    expect(missing.json.error.code).toBe('invalid_request');
  });

  it('refuses product and ai_agent keys with 403 and T4 before validating the body', async () => {
    for (const kind of ['product', 'ai_agent']) {
      const key = (await createKey(server, { kind, product: 'gurukul' })).key;
      const api = client(server.url, key);
      for (const body of [{ document: v1.document, reason: 'mine now' }, { nonsense: 1 }]) {
        const refused = await api('PUT', '/v1/governance/policy', { body });
        expect(refused.status, kind).toBe(403);
        expect(threatIds(refused.json), kind).toContain('T4');
        expect(refused.json.error.decision.operation).toBe('policy.update');
      }
      const garbage = await api('PUT', '/v1/governance/policy', {
        body: '{not json',
        headers: { 'content-type': 'application/json' },
      });
      expect(garbage.status).toBe(403);
    }
    for (const kind of ['executor', 'auditor']) {
      const api = client(server.url, (await createKey(server, { kind })).key);
      const refused = await put(api, v1.document);
      expect(refused.status, kind).toBe(403);
      expect(threatIds(refused.json), kind).toEqual(['T4']);
    }
    expect((await owner('GET', '/v1/governance/policy')).json.version).toBe(2);
  });

  it('refuses to remove a class that still has stored artifacts (409)', async () => {
    const current = (await owner('GET', '/v1/governance/policy')).json.document;
    const document = structuredClone(current);
    delete document.classes.metadata;
    document.products.ai_assistant.allowedClasses = ['artifact_manifest', 'audit_entry'];
    const refused = await put(owner, document);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('policy_in_use');
    expect(refused.json.error.details.errors).toEqual([
      { path: '/classes/metadata', message: 'removed while artifacts are stored' },
    ]);
  });

  it('lists the versions and shows each with its diff against the one before', async () => {
    const keys = (await owner('GET', '/v1/keys')).json.keys;
    const ownerId = keys.find((k: { kind: string }) => k.kind === 'owner').id;
    const list = await owner('GET', '/v1/governance/policy/versions');
    expect(list.status).toBe(200);
    expect(list.json.versions).toEqual([
      {
        version: 1,
        hash: v1.hash,
        reason: 'default policy',
        createdAt: expect.any(String),
        createdBy: 'system',
        exceptionId: null,
        expiresAt: null,
      },
      {
        version: 2,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        reason: 'smaller metadata records',
        createdAt: expect.any(String),
        createdBy: ownerId,
        exceptionId: null,
        expiresAt: null,
      },
    ]);

    const second = await owner('GET', '/v1/governance/policy/versions/2');
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ version: 2, previousVersion: 1, createdBy: ownerId });
    expect(second.json.document.classes.metadata.maxBytes).toBe(100);
    expect(second.json.diff).toEqual([
      { op: 'replace', path: '/classes/metadata/maxBytes', from: 16384, to: 100 },
    ]);
    const first = await owner('GET', '/v1/governance/policy/versions/1');
    expect(first.json).toMatchObject({ version: 1, previousVersion: null, diff: [] });
    expect(first.json.document).toEqual(v1.document);

    expect((await owner('GET', '/v1/governance/policy/versions/99')).json.error.code).toBe(
      'policy_version_not_found',
    );
    expect((await owner('GET', '/v1/governance/policy/versions/zero')).status).toBe(400);
    expect((await owner('GET', '/v1/governance/policy/versions/1e30')).status).toBe(400);
    // Reading the history is open to every key, like the live policy.
    const auditor = client(server.url, (await createKey(server, { kind: 'auditor' })).key);
    expect((await auditor('GET', '/v1/governance/policy/versions')).status).toBe(200);
  });

  it('keeps the versions and the live policy across a restart', async () => {
    await server.stop();
    const restarted = await startTestServer({ dataDir: server.dataDir });
    try {
      const api = client(restarted.url, server.ownerKey);
      const live = await api('GET', '/v1/governance/policy');
      expect(live.json.version).toBe(2);
      expect(live.json.document.classes.metadata.maxBytes).toBe(100);
      expect((await api('GET', '/v1/governance/policy/versions')).json.versions).toHaveLength(2);
    } finally {
      await restarted.stop();
    }
  });
});
