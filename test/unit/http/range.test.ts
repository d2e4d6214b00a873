import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRange } from '../../../src/http/range.js';

const partial = (start: number, end: number) => ({ kind: 'partial', range: { start, end } });

describe('parseRange (RFC 9110 §14, single byte ranges)', () => {
  it('answers the whole content without a Range header', () => {
    expect(parseRange(undefined, 10)).toEqual({ kind: 'full' });
  });

  it('serves first-last, open-ended and suffix ranges', () => {
    expect(parseRange('bytes=0-0', 10)).toEqual(partial(0, 0));
    expect(parseRange('bytes=2-5', 10)).toEqual(partial(2, 5));
    expect(parseRange('bytes=5-', 10)).toEqual(partial(5, 9));
    expect(parseRange('bytes=-3', 10)).toEqual(partial(7, 9));
    expect(parseRange(' bytes=9-9 ', 10)).toEqual(partial(9, 9));
  });

  it('clamps a last position or suffix beyond the end to the content', () => {
    expect(parseRange('bytes=4-1000', 10)).toEqual(partial(4, 9));
    expect(parseRange('bytes=-1000', 10)).toEqual(partial(0, 9));
    expect(parseRange('bytes=0-99999999999999999999', 10)).toEqual(partial(0, 9));
  });

  it('answers a range starting at or past the end as unsatisfiable (416)', () => {
    expect(parseRange('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=10-20', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=99999999999999999999-', 10)).toEqual({ kind: 'unsatisfiable' });
  });

  it('answers a zero suffix, and any range of an empty content, as unsatisfiable', () => {
    expect(parseRange('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores ranges it does not serve and sends the whole content', () => {
    for (const header of [
      'bytes=5-2', // last < first: an invalid range-spec (RFC 9110 §14.1.1)
      'bytes=0-1,4-5', // several ranges
      'items=0-1', // another unit
      'bytes=-', // no positions
      'bytes=a-b',
      'bytes=1-2-3',
      '',
    ]) {
      expect(parseRange(header, 10), header).toEqual({ kind: 'full' });
    }
  });

  it('always yields a range inside the content when it yields one', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1_000_000 }),
        fc.option(fc.nat({ max: 2_000_000 }), { nil: undefined }),
        fc.option(fc.nat({ max: 2_000_000 }), { nil: undefined }),
        (size, first, last) => {
          const header = `bytes=${first ?? ''}-${last ?? ''}`;
          const result = parseRange(header, size);
          if (result.kind !== 'partial') return;
          expect(result.range.start).toBeGreaterThanOrEqual(0);
          expect(result.range.start).toBeLessThanOrEqual(result.range.end);
          expect(result.range.end).toBeLessThan(size);
          if (first !== undefined) expect(result.range.start).toBe(first);
          if (first === undefined && last !== undefined) {
            expect(result.range.end - result.range.start + 1).toBe(Math.min(last, size));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
