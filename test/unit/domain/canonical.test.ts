/**
 * RFC 8785 canonical JSON (domain/canonical.ts) gives exactly the bytes of the `canonicalize`
 * package, the reference implementation it replaced for speed (decision 0047), on generated JSON
 * values — nested objects, arrays, every kind of number and string — and on the RFC's examples.
 */
import fc from 'fast-check';
import canonicalizeModule from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonOf } from '../../../src/domain/canonical.js';

const reference = canonicalizeModule as unknown as (value: unknown) => string | undefined;

describe('canonicalJson', () => {
  it('writes what the reference writes for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts members by UTF-16 code units and drops undefined ones, as the reference does', () => {
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
      gone: undefined,
      list: [undefined, 1e21, -0, 0.000001, 'a"\\\u0001'],
      when: new Date(0),
    };
    expect(canonicalJson(value)).toBe(reference(value));
    expect(canonicalJson({ numbers: [333333333.3333333, 1e30, 4.5, 2e-3, 1e-27] })).toBe(
      '{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}',
    );
  });

  it('refuses NaN and Infinity, and has no text for undefined', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN/);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(/Infinity/);
    expect(canonicalJsonOf(undefined)).toBeUndefined();
  });
});
