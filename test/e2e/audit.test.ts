/**
 * The audit log over real HTTP (SPEC §6): receipts, entries with their exact canonical bytes,
 * signed checkpoints, inclusion and consistency proofs, who sees what, denials and failures as
 * entries, 429s aggregated, and the export.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpointBody, openNote, parseVerifierKey } from '../../src/audit/note.js';
import { verifyConsistency, verifyInclusion } from '../../src/audit/proof.js';
import { setLimits } from '../helpers/limits.js';
import { sleep } from '../helpers/http.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const leafHashOf = (canonical: string) =>
  createHash('sha256')
    .update(Buffer.concat([Buffer.from([0]), Buffer.from(canonical, 'utf8')]))
    .digest('hex');
const hexes = (list: string[]) => list.map((h) => Buffer.from(h, 'hex'));

describe('the audit log', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;
  let assistant: ReturnType<typeof client>;
  let assistantKey: { key: string; id: string };
  let avatar: ReturnType<typeof client>;
  let auditor: ReturnType<typeof client>;
  let core: ReturnType<typeof client>;

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

  const entriesOf = async (api: ReturnType<typeof client>, query: string) => {
    const answer = await api('GET', `/v1/audit/entries?${query}`);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    return answer.json.entries as { index: number; entry: any; canonical: string }[];
  };

  it('gives every write a receipt naming its entry, which records the version it created', async () => {
    const body = JSON.stringify({ topic: 'receipts' });
    const put = await assistant('PUT', '/v1/artifacts/ai_assistant/metadata/receipt.json', {
      body,
      headers: JSON_HEADERS,
    });
    expect(put.status).toBe(201);
    const { leafIndex, leafHash } = put.json.audit;
    expect(put.headers.get('x-bucket-audit-leaf-index')).toBe(String(leafIndex));
    const stored = await owner('GET', `/v1/audit/entries/${leafIndex}`);
    expect(stored.status).toBe(200);
    expect(stored.json.leafHash).toBe(leafHash);
    // The leaf is SHA-256(0x00 ‖ the exact canonical bytes), and those bytes are the entry.
    expect(leafHashOf(stored.json.canonical)).toBe(leafHash);
    expect(JSON.parse(stored.json.canonical)).toEqual(stored.json.entry);
    expect(stored.json.entry).toMatchObject({
      index: leafIndex,
      allow: true,
      operation: 'CREATE',
      principal: { id: assistantKey.id, kind: 'product', product: 'ai_assistant' },
      target: { product: 'ai_assistant', class: 'metadata', name: 'receipt.json' },
      sha256: put.json.sha256,
      size: Buffer.byteLength(body),
      version: 1,
      requestId: put.headers.get('x-request-id'),
    });

    const basket = '/v1/artifacts/core/basket_config/gone.json';
    expect((await core('PUT', basket, { body: '{}', headers: JSON_HEADERS })).status).toBe(201);
    const tombstone = await core('DELETE', basket);
    // SPEC §3: DELETE answers 204 — its receipt travels in headers.
    expect(tombstone.status).toBe(204);
    const index = Number(tombstone.headers.get('x-bucket-audit-leaf-index'));
    const entry = (await owner('GET', `/v1/audit/entries/${index}`)).json;
    expect(entry.leafHash).toBe(tombstone.headers.get('x-bucket-audit-leaf-hash'));
    expect(entry.entry).toMatchObject({ allow: true, operation: 'DELETE', version: 2, size: 0 });
  });

  it("records in each write's entry the status its client received", async () => {
    const basket = '/v1/artifacts/core/basket_config/status.json';
    const answers = [
      await core('PUT', basket, { body: '{"n":1}', headers: JSON_HEADERS }),
      await core('PUT', basket, { body: '{"n":2}', headers: JSON_HEADERS }),
      await core('DELETE', basket),
      await core('POST', `${basket}/restore`),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([201, 200, 204, 200]);
    const recorded = [];
    for (const answer of answers) {
      const index = answer.headers.get('x-bucket-audit-leaf-index');
      const { entry } = (await owner('GET', `/v1/audit/entries/${index}`)).json;
      recorded.push(`${entry.operation} ${entry.status}`);
    }
    expect(recorded).toEqual(['CREATE 201', 'UPDATE 200', 'DELETE 204', 'DELETE 200']);
  });

  it('signs checkpoints that verify with the published key, and proves inclusion and consistency', async () => {
    const key = (await auditor('GET', '/v1/audit/public-key')).json;
    const verifier = parseVerifierKey(key.vkey);
    expect(verifier.publicKey.toString('base64')).toBe(key.publicKey);
    expect(verifier.keyId.toString('hex')).toBe(key.keyId);
    expect(key.name).toMatch(/^bhiv-bucket\/[0-9a-f]+$/);

    const first = (await auditor('GET', '/v1/audit/checkpoint')).json;
    const text = openNote(first.note, verifier);
    const body = parseCheckpointBody(text);
    expect(body.origin).toBe(key.name);
    expect(body.size).toBe(first.size);
    expect(body.rootHash.toString('hex')).toBe(first.rootHash);

    for (let i = 0; i < 5; i++) {
      await assistant('PUT', `/v1/artifacts/ai_assistant/metadata/grow-${i}.json`, {
        body: JSON.stringify({ i }),
        headers: JSON_HEADERS,
      });
    }
    const second = (await auditor('GET', '/v1/audit/checkpoint')).json;
    expect(second.size).toBeGreaterThan(first.size);
    openNote(second.note, verifier);

    const consistency = (
      await auditor('GET', `/v1/audit/proof/consistency?from=${first.size}&to=${second.size}`)
    ).json;
    expect(consistency.fromRoot).toBe(first.rootHash);
    expect(consistency.toRoot).toBe(second.rootHash);
    verifyConsistency(
      first.size,
      second.size,
      Buffer.from(first.rootHash, 'hex'),
      Buffer.from(second.rootHash, 'hex'),
      hexes(consistency.proof),
    );

    for (const index of [0, Math.floor(second.size / 2), second.size - 1]) {
      const proof = (
        await auditor('GET', `/v1/audit/proof/inclusion?index=${index}&size=${second.size}`)
      ).json;
      expect(proof.rootHash).toBe(second.rootHash);
      const entry = (await auditor('GET', `/v1/audit/entries/${index}`)).json;
      expect(proof.leafHash).toBe(entry.leafHash);
      verifyInclusion(
        index,
        second.size,
        Buffer.from(proof.leafHash, 'hex'),
        hexes(proof.proof),
        Buffer.from(second.rootHash, 'hex'),
      );
    }

    const tooLarge = await auditor('GET', `/v1/audit/proof/inclusion?index=0&size=999999999`);
    expect(tooLarge.status).toBe(400);
    const outside = await auditor(
      'GET',
      `/v1/audit/proof/inclusion?index=${second.size}&size=${second.size}`,
    );
    expect(outside.status).toBe(400);
    expect((await auditor('GET', '/v1/audit/proof/inclusion?index=-1')).status).toBe(400);
  });

  it('records a denial as a denial, with its threats', async () => {
    // A key of its own: three critical denials would suspend the key the other tests use.
    const intruderKey = await createKey(server, { kind: 'product', product: 'ai_assistant' });
    const denied = await client(server.url, intruderKey.key)(
      'PUT',
      '/v1/artifacts/ai_avatar/avatar_config/x.json',
      {
        body: '{}',
        headers: JSON_HEADERS,
      },
    );
    expect(denied.status).toBe(403);
    const found = await entriesOf(
      owner,
      `principal=${intruderKey.id}&decision=deny&threat=T1&limit=1000`,
    );
    const entry = found.find((e) => e.entry.requestId === denied.headers.get('x-request-id'));
    expect(entry?.entry).toMatchObject({
      allow: false,
      status: 403,
      target: { product: 'ai_avatar', class: 'avatar_config', name: 'x.json' },
    });
    expect(entry?.entry.threats.map((t: { id: string }) => t.id)).toContain('T1');
    expect(entry?.entry.sha256).toBeUndefined();
  });

  it('refuses any write to the audit log as data loss (403, T3), the owner’s too', async () => {
    const attempts = [
      await owner('DELETE', '/v1/audit/entries/0'),
      await owner('POST', '/v1/audit/entries', { body: '{}', headers: JSON_HEADERS }),
      await owner('PUT', '/v1/artifacts/workflow_engine/audit_log/x.json', {
        body: '{}',
        headers: JSON_HEADERS,
      }),
    ];
    for (const attempt of attempts) {
      expect(attempt.status, attempt.bytes.toString()).toBe(403);
      expect(attempt.json.error.decision.threats.map((t: { id: string }) => t.id)).toContain('T3');
      const found = await entriesOf(owner, `decision=deny&threat=T3&limit=1000`);
      expect(found.map((e) => e.entry.requestId)).toContain(attempt.headers.get('x-request-id'));
    }
    // The engine's key may read the log, never write it.
    const engine = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'workflow_engine' })).key,
    );
    const byEngine = await engine('PUT', '/v1/artifacts/workflow_engine/audit_log/x.json', {
      body: '{}',
      headers: JSON_HEADERS,
    });
    expect(byEngine.status).toBe(403);
    expect(byEngine.json.error.decision.threats.map((t: { id: string }) => t.id)).toContain('T3');
  });

  it('audits reads too', async () => {
    const read = await assistant('GET', '/v1/artifacts/ai_assistant/metadata/receipt.json');
    expect(read.status).toBe(200);
    const found = await entriesOf(
      owner,
      'artifact=ai_assistant/metadata/receipt.json&decision=allow',
    );
    const entry = found.find((e) => e.entry.requestId === read.headers.get('x-request-id'));
    expect(entry?.entry).toMatchObject({ allow: true, operation: 'READ' });
  });

  it('records a write that fails after it was allowed as a failure, never as a success', async () => {
    // Delete of a name that does not exist: allowed by the gate, then 404 before any commit.
    const missing = await core('DELETE', '/v1/artifacts/core/basket_config/nothing.json');
    expect(missing.status).toBe(404);
    // An upload cut off mid-body by the client.
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${server.url}/v1/artifacts/ai_assistant/metadata/cut.json`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${assistantKey.key}`,
          'content-type': 'application/json',
          'content-length': '100000',
        },
      });
      req.on('error', () => resolve());
      req.write('{"partial": "');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    await sleep(300);
    const touching = [
      ...(await entriesOf(owner, 'artifact=core/basket_config/nothing.json')),
      ...(await entriesOf(owner, 'artifact=ai_assistant/metadata/cut.json')),
    ];
    expect(touching.some((e) => e.entry.allow === true && e.entry.version !== undefined)).toBe(
      false,
    );
    const failure = touching.find((e) => e.entry.target.name === 'nothing.json');
    expect(failure?.entry).toMatchObject({ allow: false, status: 404 });
    expect(failure?.entry.reasons[0].rule).toBe('artifact_not_found');
    expect((await assistant('GET', '/v1/artifacts/ai_assistant/metadata/cut.json')).status).toBe(
      404,
    );
  });

  it('commits a governance change with its allow entry; a failed change leaves only its failure', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const created = await owner('POST', '/v1/keys', {
      body: JSON.stringify({ kind: 'auditor', name: 'audited change' }),
      headers: JSON_HEADERS,
    });
    expect(created.status).toBe(201);
    const missing = await owner('DELETE', '/v1/keys/key_does_not_exist');
    expect(missing.status).toBe(404);
    const reinstated = await owner('POST', `/v1/keys/${created.json.id}/reinstate`);
    expect(reinstated.json).toEqual({ keyId: created.json.id, reinstated: false });
    const recent = await entriesOf(owner, `since=${encodeURIComponent(since)}&limit=1000`);
    const of = (answer: { headers: Headers }) =>
      recent.filter((e) => e.entry.requestId === answer.headers.get('x-request-id'));
    // One entry per request: the allow of the key's creation, committed with the key ...
    // (with the 201 its client received) ...
    expect(of(created).map((e) => e.entry)).toMatchObject([
      { allow: true, operation: 'keys.create', status: 201 },
    ]);
    // ... only the failure of a revocation that found no key (never an allow) ...
    expect(of(missing).map((e) => e.entry)).toMatchObject([
      { allow: false, status: 404, reasons: [{ rule: 'key_not_found' }] },
    ]);
    // ... and the allow of a reinstatement that had nothing to lift, recorded before its answer.
    expect(of(reinstated).map((e) => e.entry)).toMatchObject([
      { allow: true, operation: 'keys.reinstate' },
    ]);
  });

  it('shows a product key only its own namespace, and the whole log to owner and auditor', async () => {
    await avatar('PUT', '/v1/artifacts/ai_avatar/avatar_config/mine.json', {
      body: '{}',
      headers: JSON_HEADERS,
    });
    const all = await entriesOf(owner, 'limit=1000');
    const seenByAuditor = await entriesOf(auditor, 'limit=1000');
    expect(seenByAuditor.length).toBeGreaterThanOrEqual(all.length);
    const seenByAssistant = await entriesOf(assistant, 'limit=1000');
    expect(seenByAssistant.length).toBeGreaterThan(0);
    expect(seenByAssistant.length).toBeLessThan(all.length);
    for (const { entry } of seenByAssistant) {
      expect(
        entry.principal.product === 'ai_assistant' || entry.target.product === 'ai_assistant',
      ).toBe(true);
    }
    const foreign = all.find(
      (e) => e.entry.principal.product === 'ai_avatar' && e.entry.target.product === 'ai_avatar',
    );
    expect(foreign).toBeDefined();
    expect((await assistant('GET', `/v1/audit/entries/${foreign?.index}`)).status).toBe(404);
    // Its export holds the same entries, each with its inclusion proof (SPEC §6).
    const exported = await assistant('GET', '/v1/audit/export');
    expect(exported.status).toBe(200);
    const [header, ...rest] = exported.bytes
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const checkpoint = rest.pop();
    expect(header).toMatchObject({ type: 'header', filter: { product: 'ai_assistant' } });
    const root = Buffer.from(checkpoint.rootHash, 'hex');
    for (const line of rest) {
      const entry = JSON.parse(line.canonical);
      expect(
        entry.principal.product === 'ai_assistant' || entry.target.product === 'ai_assistant',
      ).toBe(true);
      expect(leafHashOf(line.canonical)).toBe(line.leafHash);
      verifyInclusion(
        line.index,
        header.to,
        Buffer.from(line.leafHash, 'hex'),
        hexes(line.proof),
        root,
      );
    }
    const listed = (await entriesOf(assistant, 'limit=1000')).filter((e) => e.index < header.to);
    expect(rest.map((line) => line.index)).toEqual(listed.map((e) => e.index));
    expect(rest.length).toBeLessThan(header.to);
    const engine = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'workflow_engine' })).key,
    );
    expect((await entriesOf(engine, 'limit=1000')).length).toBeGreaterThanOrEqual(all.length);
  });

  it('pages through entries with a cursor and filters them', async () => {
    const first = await owner('GET', '/v1/audit/entries?limit=3');
    expect(first.json.entries).toHaveLength(3);
    expect(first.json.nextCursor).toBe(String(first.json.entries[2].index));
    const second = await owner('GET', `/v1/audit/entries?limit=3&cursor=${first.json.nextCursor}`);
    expect(second.json.entries[0].index).toBe(first.json.entries[2].index + 1);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await entriesOf(owner, `since=${encodeURIComponent(future)}`)).toEqual([]);
    expect((await owner('GET', '/v1/audit/entries?cursor=abc')).status).toBe(400);
    expect((await owner('GET', '/v1/audit/entries?artifact=onlyproduct')).status).toBe(400);
    expect((await owner('GET', '/v1/audit/entries?threat=T9')).status).toBe(400);
    expect((await owner('GET', '/v1/audit/entries/99999999')).status).toBe(404);
  });

  it('exports JSON lines whose entries and checkpoint agree', async () => {
    const answer = await owner('GET', '/v1/audit/export?from=2');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/ndjson/);
    const lines = answer.bytes
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const [header, ...rest] = lines;
    const checkpoint = rest.pop();
    expect(header).toMatchObject({ type: 'header', from: 2 });
    expect(header.frontier).toHaveLength(1);
    expect(checkpoint.type).toBe('checkpoint');
    expect(checkpoint.size).toBe(header.to);
    expect(rest).toHaveLength(header.to - 2);
    rest.forEach((line, i) => {
      expect(line.index).toBe(2 + i);
      expect(leafHashOf(line.canonical)).toBe(line.leafHash);
    });
    expect((await owner('GET', '/v1/audit/export?from=99999999')).status).toBe(400);
  });

  it('aggregates 429s into one entry per principal per second, with a count', async () => {
    await setLimits(server, { readsPerSecond: 5 });
    try {
      const answers = await Promise.all(
        Array.from({ length: 40 }, () => assistant('GET', '/v1/artifacts/ai_assistant')),
      );
      const refused = answers.filter((a) => a.status === 429).length;
      expect(refused).toBeGreaterThan(0);
      await sleep(1200);
      const aggregated = (
        await entriesOf(owner, `principal=${assistantKey.id}&decision=deny&limit=1000`)
      ).filter((e) => e.entry.status === 429);
      expect(aggregated.length).toBeGreaterThan(0);
      expect(aggregated.length).toBeLessThan(refused);
      expect(aggregated.reduce((sum, e) => sum + e.entry.count, 0)).toBe(refused);
      // Their T5 records are aggregated the same way: one per principal per second.
      const { recent } = (await owner('GET', '/v1/governance/threats')).json;
      const perSecond = recent.filter(
        (r: any) => r.principalId === assistantKey.id && /refused \(429\)/.test(r.evidence),
      );
      expect(perSecond.length).toBe(aggregated.length);
    } finally {
      await setLimits(server, { readsPerSecond: 1_000_000 });
    }
  });

  it('raises one T5 alert when a principal is refused for several seconds in a row', async () => {
    const flooder = await createKey(server, { kind: 'product', product: 'ai_assistant' });
    const api = client(server.url, flooder.key);
    const sustained = async () => {
      const { recent } = (await owner('GET', '/v1/governance/threats')).json;
      return recent.filter(
        (r: any) => r.principalId === flooder.id && /sustained 429s/.test(r.evidence),
      );
    };
    await setLimits(server, { readsPerSecond: 2 });
    try {
      // Requests at several times the limit, so that every second has refusals, until the alert
      // has been raised and 2.5 s more (it must not repeat). A busy machine may stall the loop
      // for a second, which ends a streak and starts another: hence no fixed duration (≤ 20 s).
      const end = Date.now() + 20_000;
      let nextCheck = Date.now() + 1000;
      let alertedAt: number | null = null;
      while (Date.now() < end && (alertedAt === null || Date.now() - alertedAt < 2500)) {
        await Promise.all(
          Array.from({ length: 2 }, () => api('GET', '/v1/artifacts/ai_assistant')),
        );
        await sleep(100);
        if (alertedAt === null && Date.now() >= nextCheck) {
          nextCheck = Date.now() + 1000;
          if ((await sustained()).length > 0) alertedAt = Date.now();
        }
      }
      await sleep(1200);
      const alerts = await sustained();
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ threatId: 'T5', severity: 'HIGH' });
    } finally {
      await setLimits(server, { readsPerSecond: 1_000_000 });
    }
  });
});
