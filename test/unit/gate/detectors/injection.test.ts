import { describe, expect, it } from 'vitest';
import { detectInjection } from '../../../../src/gate/detectors/injection.js';
import {
  detectReservedMembers,
  detectReservedMeta,
} from '../../../../src/gate/detectors/reserved-fields.js';

describe('injection detector (T2)', () => {
  it('finds Mongo operators at any depth', () => {
    const threats = detectInjection({
      filter: { age: { $gt: 3 } },
      list: [{ $where: 'sleep(1)' }],
    });
    expect(threats.map((t) => t.id)).toEqual(['T2', 'T2']);
    expect(threats.map((t) => t.evidence)).toEqual([
      'operator member "$gt" at /filter/age/$gt',
      'operator member "$where" at /list/0/$where',
    ]);
  });

  it('finds prototype-pollution members, including an own __proto__ from JSON.parse', () => {
    const parsed: unknown = JSON.parse('{"a":{"__proto__":{"polluted":true}},"constructor":1}');
    const evidence = detectInjection(parsed).map((t) => t.evidence);
    expect(evidence).toEqual([
      'prototype-pollution member "__proto__" at /a/__proto__',
      'prototype-pollution member "constructor" at /constructor',
    ]);
    expect(detectInjection({ x: { prototype: {} } })).toHaveLength(1);
  });

  it('lets JSON Schema keywords, dollar amounts and ordinary names through', () => {
    const agentSpec = {
      input: { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'x', $defs: {} },
      output: { $ref: '#/$defs/out', $comment: 'ok' },
      price: '$5',
      tags: ['$set'],
      proto: 1,
      constructorName: 'Foo',
    };
    expect(detectInjection(agentSpec)).toEqual([]);
  });
});

describe('reserved-fields detector (T2)', () => {
  it('finds top-level members beginning with _', () => {
    const threats = detectReservedMembers({ _id: 1, _version: 2, _sha256: 'x', name: 'a' });
    expect(threats.map((t) => t.evidence)).toEqual([
      'server-managed member "_id" set by the client',
      'server-managed member "_version" set by the client',
      'server-managed member "_sha256" set by the client',
    ]);
  });

  it('looks only at the top level of objects', () => {
    expect(detectReservedMembers({ nested: { _id: 1 } })).toEqual([]);
    expect(detectReservedMembers([{ _id: 1 }])).toEqual([]);
    expect(detectReservedMembers('_id')).toEqual([]);
    expect(detectReservedMembers({ id_: 1, my_id: 2 })).toEqual([]);
  });

  it('finds metadata headers shadowing server fields', () => {
    const threats = detectReservedMeta({
      sha256: 'a',
      version: '3',
      'created-by': 'me',
      'created-at': 'now',
      subject: 'ok',
    });
    expect(threats.map((t) => t.id)).toEqual(['T2', 'T2', 'T2', 'T2']);
    expect(detectReservedMeta({ subject: 'u1', 'model-version': '3', sha: 'x' })).toEqual([]);
  });
});
