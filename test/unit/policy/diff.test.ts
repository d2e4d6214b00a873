import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyJsonPatch,
  diffDocuments,
  jsonPatch,
  type JsonPatchOperation,
  type PolicyChange,
} from '../../../src/policy/diff.js';
import { loadDefaultPolicy } from '../../../src/policy/load.js';

/** The changes of a diff as the patch they amount to, applied by applyJsonPatch (RFC 6902). */
function apply(document: unknown, changes: PolicyChange[]): unknown {
  const patch = changes.map((change): JsonPatchOperation =>
    change.op === 'remove'
      ? { op: 'remove', path: change.path }
      : { op: change.op, path: change.path, value: change.to },
  );
  return applyJsonPatch(document, patch);
}

describe('policy diff', () => {
  const base = loadDefaultPolicy();

  it('is empty for equal documents', () => {
    expect(diffDocuments(base, structuredClone(base))).toEqual([]);
  });

  it('names each change by JSON pointer with its old and new value', () => {
    const next = structuredClone(base) as unknown as {
      classes: Record<string, { maxBytes: number | null }>;
      products: Record<string, { allowedClasses: string[] }>;
      limits: Record<string, number>;
    };
    (next.classes['metadata'] as { maxBytes: number }).maxBytes = 1024;
    next.products['gurukul']?.allowedClasses.pop();
    delete next.limits['maxBatch'];
    (next as Record<string, unknown>)['escalation'] = { criticalRequests: 5, windowSeconds: 60 };
    expect(diffDocuments(base, next)).toEqual([
      { op: 'replace', path: '/classes/metadata/maxBytes', from: 16384, to: 1024 },
      { op: 'add', path: '/escalation', to: { criticalRequests: 5, windowSeconds: 60 } },
      { op: 'remove', path: '/limits/maxBatch', from: 500 },
      { op: 'remove', path: '/products/gurukul/allowedClasses/2', from: 'monetization_marker' },
    ]);
  });

  it('escapes ~ and / in member names (RFC 6901) and replaces a changed kind whole', () => {
    expect(diffDocuments({ 'a/b~c': 1 }, { 'a/b~c': 2 })).toEqual([
      { op: 'replace', path: '/a~1b~0c', from: 1, to: 2 },
    ]);
    expect(diffDocuments({ x: [1] }, { x: { 0: 1 } })).toEqual([
      { op: 'replace', path: '/x', from: [1], to: { 0: 1 } },
    ]);
    expect(diffDocuments({ x: null }, { x: {} })).toEqual([
      { op: 'replace', path: '/x', from: null, to: {} },
    ]);
  });

  it('turns any JSON document into any other when applied in order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (from, to) => {
        // JSON.parse(JSON.stringify()) drops -0, which JSON cannot tell apart from 0.
        const a: unknown = JSON.parse(JSON.stringify(from));
        const b: unknown = JSON.parse(JSON.stringify(to));
        expect(apply(a, diffDocuments(a, b))).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('is a JSON Patch (RFC 6902): add, remove and replace with RFC 6901 paths', () => {
    expect(jsonPatch({ a: 1, b: [1, 2], 'c/~': 1 }, { a: 2, b: [1], d: null, 'c/~': 1 })).toEqual([
      { op: 'replace', path: '/a', value: 2 },
      { op: 'remove', path: '/b/1' },
      { op: 'add', path: '/d', value: null },
    ]);
    expect(jsonPatch({ 'a/b~c': 1 }, { 'a/b~c': 2 })).toEqual([
      { op: 'replace', path: '/a~1b~0c', value: 2 },
    ]);
    // Applied in order as RFC 6902 says, it turns any document into any other.
    const asChanges = (patch: JsonPatchOperation[]): PolicyChange[] =>
      patch.map((op) => (op.op === 'remove' ? op : { op: op.op, path: op.path, to: op.value }));
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (from, to) => {
        const a: unknown = JSON.parse(JSON.stringify(from));
        const b: unknown = JSON.parse(JSON.stringify(to));
        const patch = jsonPatch(a, b);
        for (const op of patch)
          expect(Object.keys(op).sort()).toEqual(
            op.op === 'remove' ? ['op', 'path'] : ['op', 'path', 'value'],
          );
        expect(apply(a, asChanges(patch))).toEqual(b);
        expect(applyJsonPatch(a, patch)).toEqual(b);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a patch that does not apply: a missing member or index, a bad pointer', () => {
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }])).toThrow('no member');
    expect(() => applyJsonPatch({ a: [1] }, [{ op: 'replace', path: '/a/3', value: 2 }])).toThrow(
      'out of range',
    );
    expect(() => applyJsonPatch({ a: 1 }, [{ op: 'add', path: '/x/y', value: 2 }])).toThrow();
    expect(() => applyJsonPatch({}, [{ op: 'add', path: 'a', value: 2 }])).toThrow('JSON Pointer');
    // The document given is never changed.
    const document = { a: { b: 1 } };
    expect(applyJsonPatch(document, [{ op: 'replace', path: '/a/b', value: 2 }])).toEqual({
      a: { b: 2 },
    });
    expect(document).toEqual({ a: { b: 1 } });
  });
});
