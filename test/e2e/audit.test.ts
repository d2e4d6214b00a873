/**
 * The audit log over real HTTP (SPEC §6): receipts, entries with their exact canonical bytes,
 * denials and failures as entries, governance changes with their entries, 429s aggregated.
 * Reading the log (checkpoints, proofs, who sees what, paging, export): audit-reads.test.ts.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { setLimits } from '../helpers/limits.js';
import { sleep } from '../helpers/http.js';
import { client, createKey } from '../helpers/server.js';
import {
  JSON_HEADERS,
  assistant,
  assistantKey,
  core,
  entriesOf,
  leafHashOf,
  owner,
  server,
  startAuditServer,
} from '../helpers/audit-http.js';

describe('the audit log', () => {
  startAuditServer();

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
