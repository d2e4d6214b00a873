import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DETECTORS,
  detectBypassParams,
  detectConnectionStrings,
  detectContentClaims,
  detectContentTimestamps,
  detectCredentials,
  detectInjection,
  detectMetaTimestamps,
  detectPii,
  detectRequestClaims,
  detectReservedMembers,
  detectReservedMeta,
  detectRetentionClaim,
  scanJsonContent,
} from '../../../../src/gate/detectors/index.js';
import { pointerOf, walkJson, type JsonNode } from '../../../../src/gate/detectors/walk.js';

const NOW = Date.parse('2026-11-27T20:00:00.000Z');

function nested(depth: number, leaf: unknown): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

/** Every detector, on one JSON value; none may throw. */
function runAll(json: unknown): number {
  const record = (typeof json === 'object' && json !== null ? {} : { v: String(json) }) as Record<
    string,
    string
  >;
  return [
    detectCredentials(json),
    detectConnectionStrings(json),
    detectInjection(json),
    detectPii(json),
    detectReservedMembers(json),
    detectContentClaims(json, 'gurukul'),
    detectContentTimestamps(json, NOW),
    detectReservedMeta(record),
    detectMetaTimestamps(record, NOW),
    detectRetentionClaim(record, { mode: 'compliance', period: 'P1Y' }),
    detectRequestClaims(record, record, 'gurukul'),
    detectBypassParams(Object.keys(record), Object.keys(record)),
    scanJsonContent(json, { ownProduct: 'gurukul', piiFree: true, now: NOW }),
  ].length;
}

describe('the bounded JSON walk', () => {
  it('visits every value in document order with RFC 6901 pointers', () => {
    const seen: string[] = [];
    const result = walkJson({ 'a/b': [1, { '~c': null }], d: 'x' }, (node: JsonNode) =>
      seen.push(pointerOf(node)),
    );
    expect(seen).toEqual(['', '/a~1b', '/a~1b/0', '/a~1b/1', '/a~1b/1/~0c', '/d']);
    expect(result).toEqual({ complete: true, nodes: 6 });
  });

  it('stops at the depth and node limits and says so', () => {
    expect(walkJson(nested(10, 1), () => undefined, { maxDepth: 5, maxNodes: 100 }).complete).toBe(
      false,
    );
    expect(walkJson(nested(5, 1), () => undefined, { maxDepth: 5, maxNodes: 100 }).complete).toBe(
      true,
    );
    const wide = walkJson(new Array(1000).fill(0), () => undefined, { maxDepth: 5, maxNodes: 100 });
    expect(wide.complete).toBe(false);
  });

  it('survives nesting far deeper than the call stack', () => {
    const deep = nested(200_000, { password: 'x' });
    const found = scanJsonContent(deep, { ownProduct: null, piiFree: false, now: NOW });
    expect(found.map((f) => f.detector.id)).toEqual(['inspection-bounds']);
  });

  it('reports content with too many values instead of walking all of it', () => {
    const started = Date.now();
    const huge = new Array(1_100_000).fill(0);
    const found = scanJsonContent(huge, { ownProduct: null, piiFree: true, now: NOW });
    expect(found.map((f) => f.detector.id)).toEqual(['inspection-bounds']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('detectors never throw and always terminate', () => {
  it('on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        expect(runAll(json)).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it('on arbitrary JSON text, parsed as the content stage does', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'large' }), (text) => {
        expect(runAll(JSON.parse(text))).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it('on objects with hostile member names and deep nesting', () => {
    const hostileKey = fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      '$where',
      'toString',
    );
    const hostile = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.string(),
        fc.integer(),
        fc.dictionary(fc.oneof(hostileKey, fc.string()), tie('value'), { maxKeys: 4 }),
        fc.array(tie('value'), { maxLength: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(hostile, fc.integer({ min: 0, max: 2000 }), (json, depth) => {
        expect(runAll(nested(depth, json))).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the detector catalogue', () => {
  it('lists each detector once, with its threat, severity, response and file', () => {
    const ids = DETECTORS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const detector of DETECTORS) {
      expect(detector.threat).toMatch(/^T[1-7]$/);
      expect(['CRITICAL', 'HIGH', 'MEDIUM']).toContain(detector.severity);
      expect(detector.detects.length).toBeGreaterThan(20);
      expect(detector.file).toMatch(/\.ts$/);
    }
    expect(DETECTORS.find((d) => d.id === 'timestamp-claims')?.response).toBe('flag');
    expect(DETECTORS.filter((d) => d.response === 'flag')).toHaveLength(1);
  });

  it('covers the content threats of SPEC §5', () => {
    const threats = new Set(DETECTORS.map((d) => d.threat));
    for (const id of ['T1', 'T2', 'T4', 'T6', 'T7']) expect(threats.has(id as never)).toBe(true);
  });
});
