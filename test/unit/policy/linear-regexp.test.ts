/**
 * Patterns of schemas the Bucket is given are matched in linear time (src/policy/linear-regexp.ts):
 * a pattern that makes V8's backtracking engine run for hours answers at once, and one RE2 cannot
 * match without backtracking (lookaround, backreferences) is refused where the schema is given.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { untrustedSchemaAjv } from '../../../src/policy/linear-regexp.js';
import { policyErrors } from '../../../src/policy/validate.js';
import { schemaErrors } from '../../../src/core/schemas.js';

// V8's engine takes 7–50 s on this (each two more a's about four times as long); RE2, microseconds.
const hostile = 'a'.repeat(30) + 'b';

describe('schema patterns matched in linear time', () => {
  it('matches as JSON Schema asks: search, anchors, classes, unicode', () => {
    const ajv = untrustedSchemaAjv();
    const cases: [string, string, boolean][] = [
      ['b', 'abc', true],
      ['^b', 'abc', false],
      ['^[a-z][a-z0-9_]{0,63}$', 'gurukul_1', true],
      ['^[a-z][a-z0-9_]{0,63}$', 'Gurukul', false],
      ['^\\p{L}+$', 'Müller', true],
      ['^\\d{4}-\\d{2}$', '2026-12', true],
    ];
    for (const [pattern, text, expected] of cases) {
      const validate = ajv.compile({ type: 'string', pattern });
      expect(validate(text), `${pattern} on ${text}`).toBe(expected);
    }
    const keyed = ajv.compile({ type: 'object', patternProperties: { '^x_': { type: 'number' } } });
    expect(keyed({ x_a: 1, y: 'free' })).toBe(true);
    expect(keyed({ x_a: 'one' })).toBe(false);
  });

  it('keeps the meaning JavaScript gives \\s, \\S, . and \\u escapes, as JSON Schema asks', () => {
    const patterns = [
      '^\\S+$',
      '\\s',
      '^[\\s\\d]+$',
      '^.{1,8}$',
      '^[.]+$',
      '^a\\.b$',
      '^[^\\u0000-\\u001f]*$',
      '^\\u00e9$',
      '^[\\]a]+$',
      '^[^\\]]+$',
    ];
    const texts = [
      'ab',
      'a b',
      'a\u00a0b',
      'a\u2028b',
      'a\u3000b',
      'a\rb',
      'a\tb',
      '\u00a0 1',
      '...',
      'a.b',
      'axb',
      'a\u0001b',
      '\u00e9',
      'a]a',
      ']',
      '',
    ];
    const ajv = untrustedSchemaAjv();
    for (const pattern of patterns) {
      const validate = ajv.compile({ type: 'string', pattern });
      const javascript = new RegExp(pattern, 'u');
      for (const text of texts) {
        expect(validate(text), `${pattern} on ${JSON.stringify(text)}`).toBe(javascript.test(text));
      }
    }
  });

  it('answers at once on a pattern that backtracks for hours in V8', () => {
    const validate = untrustedSchemaAjv().compile({ type: 'string', pattern: '^(a|a)*$' });
    const started = performance.now();
    expect(validate(hostile)).toBe(false);
    expect(validate('aaaa')).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses a class schema whose pattern needs backtracking, with the reason', () => {
    const doc = parse(readFileSync('config/default-policy.yaml', 'utf8'));
    doc.classes.metadata.schema = { type: 'object', properties: { a: { pattern: '(?=x)x' } } };
    expect(policyErrors(doc)).toEqual([
      {
        path: '/classes/metadata/schema',
        message: expect.stringMatching(/not a valid JSON Schema: .*unsupported Perl syntax/),
      },
    ]);
  });

  it('matches agents’ schemas in linear time too', () => {
    const schema = { type: 'object', properties: { q: { type: 'string', pattern: '^(a|a)*$' } } };
    const started = performance.now();
    expect(schemaErrors(schema, { q: hostile })).toMatch(/pattern/);
    // As above: V8's engine takes seconds on this input.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
