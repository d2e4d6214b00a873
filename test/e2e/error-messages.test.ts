/**
 * Refusals a user can act on (SPEC §3 envelope): each message says what is wrong in the user's
 * terms and what to send instead — a missing Content-Type, JSON that does not parse (where, when
 * the parser says), a misspelt class name — with the same status, code, rule and threat as before.
 */
import { describe, expect, it } from 'vitest';
import { rawRequest } from '../helpers/http.js';
import {
  META_BASE,
  assistantKey,
  expectEnvelope,
  put,
  server,
  startBadInputServer,
  versionsStatus,
} from '../helpers/bad-input.js';

describe('error messages', () => {
  startBadInputServer();

  it('says no Content-Type header was sent, and which to send', async () => {
    const path = `${META_BASE}/messages/untyped`;
    for (const headers of [{}, { 'content-type': '' }] as Record<string, string>[]) {
      const answer = await rawRequest(server.url, {
        method: 'PUT',
        path,
        key: assistantKey,
        headers,
        body: '{"a":1}',
      });
      expect(answer.status).toBe(415);
      expectEnvelope(answer, 'unsupported_media_type');
      const { message } = answer.json.error;
      // No header reaches the gate; an empty one is refused by the HTTP layer before it.
      expect(message).toMatch(/no Content-Type header was sent|Content-Type header is empty/);
      expect(message).toContain('"Content-Type: application/json"');
      expect(message).not.toContain('not no content type');
    }
    const typed = await put(path, '{"a":1}', { 'content-type': 'text/plain' });
    expect(typed.json.error.message).toMatch(
      /accepts application\/json, not text\/plain: send the header "Content-Type: application\/json"/,
    );
    expect(await versionsStatus(path)).toBe(404);
  });

  it.each([
    ['a truncated body', '{"a":', /ends before the JSON value is complete/],
    ['an empty body', '', /the body is empty/],
    ['a missing colon', '{\n  "a" 1}', /expected ':' after property name at line 2, column 7/],
    ['a trailing comma', '{"a":1,}', /at line 1, column 8 \(character 7\)/],
  ])('says what is wrong with %s, where, and what to do', async (_label, body, what) => {
    const path = `${META_BASE}/messages/invalid-${body.length}`;
    const answer = await put(path, body);
    expect(answer.status).toBe(400);
    expectEnvelope(answer, 'invalid_json');
    const { message } = answer.json.error;
    expect(message).toMatch(/^the body is not valid JSON, which class "metadata" stores: /);
    expect(message).toMatch(what);
    expect(message).toContain('check it with `jq . FILE`');
    expect(answer.json.error.decision.reasons[0].rule).toBe('json_parse');
  });

  it('never repeats the body in the message (it is kept in the audit log)', async () => {
    const answer = await put(`${META_BASE}/messages/quoted`, '{"secret": tru}');
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).not.toContain('secret');
  });

  it('names a class that exists nowhere, and the one meant; still T4 at stage 2', async () => {
    const answer = await put('/v1/artifacts/ai_assistant/metdata/x.json', '{"a":1}');
    expect(answer.status).toBe(403);
    const { message, decision } = answer.json.error;
    expect(message).toMatch(
      /did not declare class "metdata"; no class "metdata" exists in the policy — did you mean "metadata"\?/,
    );
    expect(decision.reasons[0].rule).toBe('class_not_declared');
    expect(decision.threats.map((t: { id: string }) => t.id)).toEqual(['T4']);

    // A class that exists, only not declared: the message is as before.
    const undeclared = await put('/v1/artifacts/ai_assistant/avatar_config/x.json', '{"a":1}');
    expect(undeclared.status).toBe(403);
    expect(undeclared.json.error.message).not.toContain('exists');
  });
});
