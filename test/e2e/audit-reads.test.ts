/**
 * Reading the audit log over real HTTP (SPEC §6): signed checkpoints, inclusion and consistency
 * proofs, who sees what, paging with filters, and the export.
 */
import { describe, expect, it } from 'vitest';
import { parseCheckpointBody, openNote, parseVerifierKey } from '../../src/audit/note.js';
import { verifyConsistency, verifyInclusion } from '../../src/audit/proof.js';
import { client, createKey } from '../helpers/server.js';
import {
  JSON_HEADERS,
  assistant,
  auditor,
  avatar,
  entriesOf,
  hexes,
  leafHashOf,
  owner,
  server,
  startAuditServer,
} from '../helpers/audit-http.js';

describe('the audit log', () => {
  startAuditServer();

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
});
