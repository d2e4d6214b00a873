/**
 * Policy exceptions (SPEC §9, docs/decisions/0032): requested by a product or the owner, refused
 * at request time when the patch breaks a floor, applied only by the owner's approval as a policy
 * version, and reverted by the Bucket itself at expiry — with a test clock, across a restart, and
 * by exactly one of two nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run.js';
import { twoNodes, twoNodesAvailable } from '../helpers/two-nodes.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const EXCEPTIONS = '/v1/governance/exceptions';
const QUOTA = '/products/ai_avatar/quotaBytes';
const MINUTE = 60_000;

function request(patch: unknown[], durationMinutes = 30) {
  return { title: 'launch', justification: 'a campaign needs room', patch, durationMinutes };
}

type Api = ReturnType<typeof client>;

async function livePolicy(api: Api) {
  return (await api('GET', '/v1/governance/policy')).json as {
    version: number;
    document: { products: Record<string, { quotaBytes: number }> };
  };
}

async function eventTypes(api: Api): Promise<string[]> {
  const answer = await api('GET', '/v1/events?limit=1000');
  return (answer.json.events as { type: string }[]).map((event) => event.type);
}

/** Requests and approves an exception raising ai_avatar's quota; resolves to its id. */
async function approved(owner: Api, quota: number, minutes = 30): Promise<string> {
  const asked = await owner('POST', EXCEPTIONS, {
    body: request([{ op: 'replace', path: QUOTA, value: quota }], minutes),
  });
  expect(asked.status).toBe(201);
  const approval = await owner('POST', `${EXCEPTIONS}/${asked.json.id}/approve`, {
    body: { reason: 'ok' },
  });
  expect(approval.status).toBe(200);
  return asked.json.id as string;
}

describe('policy exceptions', () => {
  let server: InProcessTestServer;
  let clock = Date.parse('2027-03-01T10:00:00.000Z');
  let owner: Api;
  let product: Api;

  beforeAll(async () => {
    server = await startTestServer({ bucket: { now: () => clock, exceptionPollMs: 60_000 } });
    owner = client(server.url, server.ownerKey);
    product = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
  });
  afterAll(async () => server?.dispose());

  it('a product requests, sees only its own, and cannot approve its own request', async () => {
    const asked = await product('POST', EXCEPTIONS, {
      body: request([{ op: 'replace', path: QUOTA, value: 1 }]),
    });
    expect(asked.status).toBe(201);
    expect(asked.json).toMatchObject({
      status: 'pending',
      product: 'ai_avatar',
      durationMinutes: 30,
    });
    const before = await livePolicy(owner);
    const own = await product('POST', `${EXCEPTIONS}/${asked.json.id}/approve`, {
      body: { reason: 'self' },
    });
    expect(own.status).toBe(403);
    expect((await livePolicy(owner)).version).toBe(before.version);
    const ownerAsked = await owner('POST', EXCEPTIONS, {
      body: request([
        { op: 'test', path: QUOTA, value: before.document.products['ai_avatar']?.quotaBytes },
      ]),
    });
    expect(ownerAsked.status).toBe(201);
    expect(ownerAsked.json.product).toBeNull();
    const seen = (await product('GET', EXCEPTIONS)).json.exceptions as { id: string }[];
    expect(seen.map((e) => e.id)).toEqual([asked.json.id]);
    const all = (await owner('GET', EXCEPTIONS)).json.exceptions as { id: string }[];
    expect(all.map((e) => e.id)).toContain(ownerAsked.json.id);
    expect(await eventTypes(owner)).toContain('bucket.exception.requested');
  });

  it('refuses at request time a patch that breaks a floor, naming it; and a broken patch', async () => {
    const floor = await product('POST', EXCEPTIONS, {
      body: request([{ op: 'replace', path: '/products/workflow_engine/readOnly', value: false }]),
    });
    expect(floor.status).toBe(400);
    expect(floor.json.error.code).toBe('invalid_exception');
    expect(floor.json.error.message).toContain('workflow_engine');
    expect(floor.json.error.details.floors[0].floor).toBe('workflow_engine_read_only');
    const broken = await product('POST', EXCEPTIONS, {
      body: request([{ op: 'replace', path: '/products/nope/quotaBytes', value: 1 }]),
    });
    expect(broken.status).toBe(400);
    const invalid = await product('POST', EXCEPTIONS, {
      body: request([{ op: 'replace', path: QUOTA, value: 'lots' }]),
    });
    expect(invalid.status).toBe(400);
    const tooLong = await product('POST', EXCEPTIONS, {
      body: request([{ op: 'replace', path: QUOTA, value: 1 }], 10081),
    });
    expect(tooLong.status).toBe(400);
  });

  it('refuses a patch value nested too deeply with 400, whatever the operation', async () => {
    // As text: deep enough that comparing or storing it would overflow the stack.
    const deep = `{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    for (const op of ['test', 'add', 'replace']) {
      const path = op === 'add' ? '/classes/metadata/schema' : '/classes';
      const answer = await product('POST', EXCEPTIONS, {
        body:
          `{"title":"t","justification":"j","durationMinutes":5,` +
          `"patch":[{"op":"${op}","path":"${path}","value":${deep}}]}`,
        headers: { 'content-type': 'application/json' },
      });
      expect(answer.status, `${op}: ${answer.bytes.toString().slice(0, 200)}`).toBe(400);
      expect(answer.json.error.code).toBe('invalid_exception');
      expect(answer.json.error.message).toMatch(/nested deeper than 64 levels/);
    }
  });

  it('rejection changes no policy; a decided exception cannot be decided again', async () => {
    const before = await livePolicy(owner);
    const asked = await product('POST', EXCEPTIONS, {
      body: request([{ op: 'replace', path: QUOTA, value: 5 }]),
    });
    const rejected = await owner('POST', `${EXCEPTIONS}/${asked.json.id}/reject`, {
      body: { reason: 'no' },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.json).toMatchObject({ status: 'rejected', reason: 'no', policyVersion: null });
    expect((await livePolicy(owner)).version).toBe(before.version);
    const again = await owner('POST', `${EXCEPTIONS}/${asked.json.id}/approve`, {
      body: { reason: 'yes' },
    });
    expect(again.status).toBe(409);
    expect(await eventTypes(owner)).toContain('bucket.exception.rejected');
  });

  it('approval applies a marked version; the Bucket reverts it at expiry, audited', async () => {
    const before = await livePolicy(owner);
    const original = before.document.products['ai_avatar']?.quotaBytes;
    const id = await approved(owner, 123_456_789, 30);
    const during = await livePolicy(owner);
    expect(during.version).toBe(before.version + 1);
    expect(during.document.products['ai_avatar']?.quotaBytes).toBe(123_456_789);
    const shown = (await owner('GET', EXCEPTIONS)).json.exceptions.find(
      (e: { id: string }) => e.id === id,
    );
    expect(shown).toMatchObject({
      status: 'approved',
      policyVersion: during.version,
      expiresAt: new Date(clock + 30 * MINUTE).toISOString(),
    });
    // The version it made is marked as the exception's in the policy history (SPEC §9).
    const mark = { exceptionId: id, expiresAt: new Date(clock + 30 * MINUTE).toISOString() };
    const marked = await owner('GET', `/v1/governance/policy/versions/${during.version}`);
    expect(marked.json).toMatchObject(mark);
    const history = (await owner('GET', '/v1/governance/policy/versions')).json.versions;
    expect(history.find((v: { version: number }) => v.version === during.version)).toMatchObject(
      mark,
    );
    expect(history[0]).toMatchObject({ version: 1, exceptionId: null, expiresAt: null });
    clock += 29 * MINUTE;
    expect(await server.bucket.exceptions.expireDue()).toBe(0);
    clock += MINUTE;
    expect(await server.bucket.exceptions.expireDue()).toBe(1);
    const after = await livePolicy(owner);
    expect(after.version).toBe(during.version + 1);
    expect(after.document.products['ai_avatar']?.quotaBytes).toBe(original);
    const types = await eventTypes(owner);
    expect(types).toContain('bucket.exception.approved');
    expect(types).toContain('bucket.exception.expired');
    const entries = (await owner('GET', '/v1/audit/entries?principal=system&limit=100')).json
      .entries as { entry: { operation: string; governance?: { exceptionId?: string } } }[];
    const expiry = entries.find((e) => e.entry.operation === 'exception.expire');
    expect(expiry?.entry.governance?.exceptionId).toBe(id);
    // Both versions were made by mechanisms of the Bucket: drift finds their entries.
    const drift = (await owner('GET', '/v1/governance/drift')).json;
    expect(drift.status).not.toBe('drifted');
    expect(drift.checks.find((c: { component: string }) => c.component === 'policy')).toMatchObject(
      { explained: true },
    );
  });

  it('keeps what the owner changed since at the same path (the later change stands)', async () => {
    const id = await approved(owner, 222_222_222, 10);
    const live = await livePolicy(owner);
    const document = structuredClone(live.document);
    (document.products['ai_avatar'] as { quotaBytes: number }).quotaBytes = 333_333_333;
    const put = await owner('PUT', '/v1/governance/policy', { body: { document, reason: 'mine' } });
    expect(put.status).toBe(200);
    clock += 10 * MINUTE;
    expect(await server.bucket.exceptions.expireDue()).toBe(1);
    expect((await livePolicy(owner)).document.products['ai_avatar']?.quotaBytes).toBe(333_333_333);
    const expired = (await owner('GET', EXCEPTIONS)).json.exceptions.find(
      (e: { id: string }) => e.id === id,
    );
    expect(expired).toMatchObject({ status: 'expired', revertVersion: null });
  });

  it('leaves an audit log that verifies: every version made or reverted has its entry', async () => {
    const result = await runCli(['audit', 'verify', '--json'], {
      env: { ...server.backend?.env, BUCKET_DATA_DIR: server.dataDir },
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, problems: [] });
  });
});

describe('policy exceptions across a restart', () => {
  it('an exception that expired while the Bucket was stopped is reverted at start', async () => {
    let clock = Date.parse('2027-03-01T10:00:00.000Z');
    const options = { now: () => clock, exceptionPollMs: 60_000 };
    const first = await startTestServer({ bucket: options });
    const owner = client(first.url, first.ownerKey);
    const original = (await livePolicy(owner)).document.products['ai_avatar']?.quotaBytes;
    await approved(owner, 7_777_777, 5);
    await first.stop();
    clock += 6 * MINUTE;
    const second = await startTestServer({
      dataDir: first.dataDir,
      ...(first.backend ? { backend: first.backend } : {}),
      bucket: options,
    });
    try {
      const api = client(second.url, second.ownerKey);
      expect((await livePolicy(api)).document.products['ai_avatar']?.quotaBytes).toBe(original);
    } finally {
      await second.dispose();
    }
  });
});

describe.runIf(await twoNodesAvailable())('policy exceptions on two nodes', () => {
  let clock = Date.parse('2027-03-01T10:00:00.000Z');
  const nodes = twoNodes({ now: () => clock, exceptionPollMs: 60_000 });

  it('exactly one node reverts', async () => {
    const owner = client(nodes.nodeA.url, nodes.nodeA.ownerKey);
    const before = await livePolicy(owner);
    await approved(owner, 4_444_444, 1);
    clock += MINUTE;
    const counts = await Promise.all([
      nodes.nodeA.bucket.exceptions.expireDue(),
      nodes.nodeB.bucket.exceptions.expireDue(),
    ]);
    expect(counts[0] + counts[1]).toBe(1);
    await nodes.nodeA.bucket.policies.reload();
    const after = await livePolicy(owner);
    expect(after.version).toBe(before.version + 2);
    expect(after.document.products['ai_avatar']?.quotaBytes).toBe(
      before.document.products['ai_avatar']?.quotaBytes,
    );
  });
});
