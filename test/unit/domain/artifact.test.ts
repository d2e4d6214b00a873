import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDuration,
  isDuration,
  nameProblem,
  retentionFor,
} from '../../../src/domain/artifact.js';
import { loadDefaultPolicy } from '../../../src/policy/load.js';

describe('nameProblem (SPEC §2.2 artifact names)', () => {
  it.each([
    'a',
    'run/1.json',
    'avatar/v3.ckpt',
    'A-b_c~d.e/F0',
    'x/versions/y',
    'restore/y',
    'a/Versions',
    'a/.hidden',
    'a/...',
    '0'.repeat(512),
  ])('accepts %j', (name) => {
    expect(nameProblem(name)).toBeNull();
  });

  it.each([
    ['', 'empty'],
    ['/a', 'leading slash'],
    ['.a', 'leading dot'],
    ['-a', 'leading dash'],
    ['a//b', 'empty segment'],
    ['a/', 'trailing empty segment'],
    ['a/./b', '"." segment'],
    ['a/../b', '".." segment'],
    ['a/..', 'trailing ".."'],
    ['versions', 'reserved last segment'],
    ['a/versions', 'reserved last segment'],
    ['a/restore', 'reserved last segment'],
    ['a b', 'space'],
    ['a\nb', 'newline'],
    ['a\u0000b', 'NUL'],
    ['a\u007fb', 'DEL'],
    ['a%2fb', 'percent'],
    ['a\\b', 'backslash'],
    ['naïve', 'non-ASCII'],
    ['0'.repeat(513), 'over 512 bytes'],
  ])('refuses %j (%s)', (name) => {
    expect(nameProblem(name)).toEqual(expect.any(String));
  });

  const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const SEGMENT_CHARS = ALPHANUMERIC + '._~-';
  const segment = fc
    .string({ unit: fc.constantFrom(...SEGMENT_CHARS.split('')), minLength: 1, maxLength: 40 })
    .filter((s) => s !== '.' && s !== '..');
  const validName = fc
    .tuple(
      fc.constantFrom(...ALPHANUMERIC.split('')),
      fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS.split('')), maxLength: 40 }),
      fc.array(segment, { maxLength: 12 }),
    )
    .map(([first, rest, segments]) => [first + rest, ...segments].join('/'))
    .filter((name) => name.length <= 512)
    .filter((name) => !['versions', 'restore'].includes(name.split('/').pop() ?? ''));

  it('accepts every name built by the SPEC rules', () => {
    fc.assert(
      fc.property(validName, (name) => {
        expect(nameProblem(name)).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a valid name with any character outside the allowed set inserted', () => {
    const outside = fc
      .string({ minLength: 1, maxLength: 1, unit: 'binary' })
      .filter((c) => !(SEGMENT_CHARS + '/').includes(c));
    fc.assert(
      fc.property(validName, outside, fc.nat(), (name, char, at) => {
        const position = at % (name.length + 1);
        const broken = name.slice(0, position) + char + name.slice(position);
        expect(nameProblem(broken)).not.toBeNull();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('addDuration and isDuration', () => {
  it('adds years, months and days in UTC', () => {
    expect(addDuration('2026-03-15T10:20:30.000Z', 'P1Y')).toBe('2027-03-15T10:20:30.000Z');
    expect(addDuration('2026-03-15T10:20:30.000Z', 'P7Y')).toBe('2033-03-15T10:20:30.000Z');
    expect(addDuration('2026-03-15T00:00:00.000Z', 'P2M')).toBe('2026-05-15T00:00:00.000Z');
    expect(addDuration('2026-12-30T00:00:00.000Z', 'P3D')).toBe('2027-01-02T00:00:00.000Z');
    expect(addDuration('2026-01-01T00:00:00.000Z', 'P1Y2M3D')).toBe('2027-03-04T00:00:00.000Z');
    expect(addDuration('2026-01-01T00:00:00.000Z', 'P90D')).toBe('2026-04-01T00:00:00.000Z');
  });

  it('never ends a period before the same calendar date (leap day → 1 March at the earliest)', () => {
    const until = addDuration('2028-02-29T12:00:00.000Z', 'P1Y');
    expect(until >= '2029-02-28T12:00:00.000Z').toBe(true);
  });

  it('refuses durations it cannot add', () => {
    for (const bad of ['P', 'PT1H', '1Y', 'P1W', 'P-1Y', 'P1.5Y', '']) {
      expect(() => addDuration('2026-01-01T00:00:00.000Z', bad), bad).toThrow();
      expect(isDuration(bad), bad).toBe(false);
    }
    for (const good of ['P1Y', 'P7Y', 'P6M', 'P30D', 'P1Y6M']) expect(isDuration(good)).toBe(true);
  });
});

describe('retentionFor (SPEC §2.2 retention column)', () => {
  const classes = loadDefaultPolicy().classes;
  const createdAt = '2026-11-27T20:00:00.000Z';
  const of = (classId: string) => {
    const rule = classes[classId]?.retention;
    if (!rule) throw new Error(`no class ${classId}`);
    return retentionFor(rule, createdAt);
  };

  it('"permanent" is compliance retention that never expires', () => {
    for (const classId of ['avatar_config', 'model_checkpoint', 'persona_config', 'agent_spec']) {
      expect(of(classId), classId).toEqual({ mode: 'compliance', until: null });
    }
  });

  it('"N years, compliance" is compliance until createdAt + N years', () => {
    expect(of('metadata')).toEqual({ mode: 'compliance', until: '2027-11-27T20:00:00.000Z' });
    expect(of('audit_entry')).toEqual({ mode: 'compliance', until: '2033-11-27T20:00:00.000Z' });
    expect(of('monetization_marker')).toEqual({
      mode: 'compliance',
      until: '2033-11-27T20:00:00.000Z',
    });
  });

  it('"1 year" without compliance is governance retention for a year', () => {
    for (const classId of ['user_progress', 'execution_record', 'agent_output']) {
      expect(of(classId), classId).toEqual({
        mode: 'governance',
        until: '2027-11-27T20:00:00.000Z',
      });
    }
  });
});

describe('addDuration clamps to the last day of the target month', () => {
  it('keeps leap days and month ends inside the target month', () => {
    expect(addDuration('2028-02-29T10:00:00.000Z', 'P1Y')).toBe('2029-02-28T10:00:00.000Z');
    expect(addDuration('2027-01-31T00:00:00.000Z', 'P1M')).toBe('2027-02-28T00:00:00.000Z');
    expect(addDuration('2026-11-27T20:00:00.000Z', 'P7Y')).toBe('2033-11-27T20:00:00.000Z');
    expect(addDuration('2026-12-31T00:00:00.000Z', 'P2D')).toBe('2027-01-02T00:00:00.000Z');
  });
});
