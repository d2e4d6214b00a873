/**
 * Bad input (SPEC §2.2 names, §3 status codes, issue 2 "Bad input"): every malformed request is
 * answered in the error envelope with the right status, nothing is stored, and the server stays
 * healthy. Paths go over node:http so that `..` and percent-encodings reach the server as sent.
 * This file: names, content, metadata headers, other malformed requests; size limits, products
 * and classes: bad-input-limits.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { rawRequest, type RawAnswer } from '../helpers/http.js';
import { client } from '../helpers/server.js';
import {
  META_BASE,
  assistant,
  assistantKey,
  expectEnvelope,
  put,
  server,
  startBadInputServer,
  versionsStatus,
} from '../helpers/bad-input.js';

describe('bad input', () => {
  startBadInputServer();

  describe('artifact names', () => {
    it.each([
      ['a percent-encoded ".." segment', 'a/%2E%2E/b'],
      ['a lower-case percent-encoded ".." segment', 'a/%2e%2e'],
      ['a literal ".." segment', 'a/../b'],
      ['a "." segment', 'a/./b'],
      ['an empty segment', 'a//b'],
      ['a leading slash', '/a'],
      ['a trailing slash', 'a/'],
      ['a leading dot', '.hidden'],
      ['more than 512 bytes', 'n'.repeat(513)],
      ['a NUL character', 'a%00b'],
      ['a newline', 'a%0Ab'],
      ['a unit separator', 'a%1Fb'],
      ['a DEL character', 'a%7Fb'],
      ['a space', 'a%20b'],
      ['a non-ASCII letter', 'caf%C3%A9'],
      ['a last segment "versions"', 'x/versions'],
      ['a last segment "restore"', 'x/restore'],
    ])('refuses a name with %s with 400 invalid_name', async (_label, name) => {
      const answer = await put(`${META_BASE}/${name}`, '{"a":1}');
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'invalid_name');
    });

    it('refuses a bad name on reads too', async () => {
      const answer = await rawRequest(server.url, {
        method: 'GET',
        path: `${META_BASE}/a/%2E%2E/%2E%2E/b`,
        key: assistantKey,
      });
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'invalid_name');
    });

    it('accepts a name of exactly 512 bytes', async () => {
      const answer = await put(`${META_BASE}/${'n'.repeat(512)}`, '{"a":1}');
      expect(answer.status).toBe(201);
    });

    it('answers a malformed percent-encoding with 400 in the error envelope', async () => {
      const answer = await put(`${META_BASE}/a%ZZb`, '{"a":1}');
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'invalid_request');
    });

    it('stored none of the refused names', async () => {
      const list = await assistant('GET', '/v1/artifacts/ai_assistant?limit=1000');
      expect(list.json.items.map((item: { name: string }) => item.name)).toEqual(['n'.repeat(512)]);
    });
  });

  describe('content', () => {
    it('refuses a non-JSON content type for a JSON class with 415', async () => {
      const path = `${META_BASE}/content/plain`;
      const answer = await put(path, '{"a":1}', { 'content-type': 'text/plain' });
      expect(answer.status).toBe(415);
      expectEnvelope(answer, 'unsupported_media_type');
      expect(await versionsStatus(path)).toBe(404);
    });

    it('refuses a JSON class body without a content type with 415', async () => {
      const path = `${META_BASE}/content/untyped`;
      const answer = await rawRequest(server.url, {
        method: 'PUT',
        path,
        key: assistantKey,
        body: '{"a":1}',
      });
      expect(answer.status).toBe(415);
      expect(await versionsStatus(path)).toBe(404);
    });

    it.each([
      ['truncated JSON', '{"a":'],
      ['an empty body', ''],
      ['a trailing comma', '{"a":1,}'],
      ['single quotes', "{'a':1}"],
    ])('refuses %s with 400 invalid_json', async (_label, body) => {
      const path = `${META_BASE}/content/invalid-${body.length}`;
      const answer = await put(path, body);
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'invalid_json');
      expect(await versionsStatus(path)).toBe(404);
    });

    it.each([
      ['an array', '[{"a":1}]'],
      ['null', 'null'],
      ['a string', '"text"'],
      ['a number', '42'],
    ])('refuses %s for a JSON-object class with 400', async (label, body) => {
      const path = `${META_BASE}/content/not-object-${label.replace(' ', '-')}`;
      const answer = await put(path, body);
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'json_not_object');
      expect(await versionsStatus(path)).toBe(404);
    });
  });

  describe('metadata headers', () => {
    it('accepts x-bucket-meta-* of exactly 8 KiB and returns it', async () => {
      const path = `${META_BASE}/meta/exact`;
      const value = 'v'.repeat(8192 - 'note'.length);
      const answer = await put(path, '{"a":1}', { 'x-bucket-meta-note': value });
      expect(answer.status).toBe(201);
      const head = await rawRequest(server.url, { method: 'HEAD', path, key: assistantKey });
      expect(head.headers['x-bucket-meta-note']).toBe(value);
    });

    it('refuses x-bucket-meta-* over 8 KiB in all with 400 and stores nothing', async () => {
      const path = `${META_BASE}/meta/over`;
      const answer = await put(path, '{"a":1}', {
        'x-bucket-meta-first': 'a'.repeat(4096),
        'x-bucket-meta-second': 'b'.repeat(4096),
      });
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'invalid_metadata');
      expect(await versionsStatus(path)).toBe(404);
    });
  });

  describe('other malformed requests', () => {
    const cases: [string, () => Promise<RawAnswer>, number][] = [
      [
        'a non-numeric x-bucket-if-version',
        () => put(`${META_BASE}/other/ifv`, '{}', { 'x-bucket-if-version': '1e3' }),
        400,
      ],
      [
        'If-None-Match other than * on PUT',
        () => put(`${META_BASE}/other/inm`, '{}', { 'if-none-match': '"abc"' }),
        400,
      ],
      [
        'a negative list limit',
        () =>
          rawRequest(server.url, {
            method: 'GET',
            path: '/v1/artifacts/ai_assistant?limit=-1',
            key: assistantKey,
          }),
        400,
      ],
      [
        'POST to an artifact without /restore',
        () => rawRequest(server.url, { method: 'POST', path: `${META_BASE}/x`, key: assistantKey }),
        404,
      ],
      [
        'a malformed key body',
        () =>
          rawRequest(server.url, {
            method: 'POST',
            path: '/v1/keys',
            key: server.ownerKey,
            headers: { 'content-type': 'application/json' },
            body: '{"kind":',
          }),
        400,
      ],
    ];
    it.each(cases)('answers %s in the error envelope', async (_label, send, status) => {
      const answer = await send();
      expect(answer.status).toBe(status);
      expect(answer.json?.error?.requestId).toEqual(expect.any(String));
    });
  });

  it('is still healthy and serving after all of the above', async () => {
    const health = await client(server.url)('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('healthy');
    const path = `${META_BASE}/after/all.json`;
    expect((await assistant('PUT', path, { body: { fine: true } })).status).toBe(201);
    expect((await assistant('GET', path)).json).toEqual({ fine: true });
  });
});
