import { describe, expect, it } from 'vitest';
import {
  exportCheckpoint,
  exportEntry,
  exportHeader,
  isCheckpointLine,
  parseExportLine,
} from '../../../src/audit/export.js';

const HASH = 'ab'.repeat(32);

function line(value: unknown) {
  const parsed = parseExportLine(JSON.stringify(value));
  if (parsed === undefined) throw new Error('not JSON');
  return parsed;
}

describe('audit export lines', () => {
  it('reads a header with its frontier as hashes', () => {
    const header = exportHeader(
      line({ type: 'header', origin: 'o', from: 1, to: 3, frontier: [HASH] }),
    );
    expect(header).toEqual({
      from: 1,
      to: 3,
      origin: 'o',
      frontier: [Buffer.from(HASH, 'hex')],
      filter: null,
    });
    // A product key's export names its product (SPEC §6).
    const filtered = line({
      type: 'header',
      origin: 'o',
      from: 0,
      to: 3,
      frontier: [],
      filter: { product: 'gurukul' },
    });
    expect(exportHeader(filtered)?.filter).toEqual({ product: 'gurukul' });
  });

  it.each([
    ['a frontier hash that is not hex', { frontier: ['zz'] }],
    ['a frontier that is not a list', { frontier: HASH }],
    ['from beyond to', { from: 4 }],
    ['a negative size', { from: -1 }],
    ['no origin', { origin: undefined }],
    ['another type', { type: 'entry' }],
    ['a filter without a product', { filter: {} }],
  ])('refuses a header with %s', (_what, change) => {
    const valid = { type: 'header', origin: 'o', from: 1, to: 3, frontier: [HASH] };
    expect(exportHeader(line({ ...valid, ...change }))).toBeNull();
  });

  it('reads entries and the checkpoint, and nothing else as either', () => {
    const entry = line({ type: 'entry', index: 2, canonical: '{"index":2}', leafHash: HASH });
    expect(exportEntry(entry)).toEqual({
      index: 2,
      canonical: Buffer.from('{"index":2}'),
      leafHash: Buffer.from(HASH, 'hex'),
      proof: null,
    });
    expect(exportCheckpoint(entry)).toBeNull();
    // A filtered export's entry carries its inclusion proof; a proof that is no hash list is refused.
    expect(exportEntry({ ...entry, proof: [HASH] })?.proof).toEqual([Buffer.from(HASH, 'hex')]);
    expect(exportEntry({ ...entry, proof: ['zz'] })).toBeNull();
    expect(exportEntry({ ...entry, proof: HASH })).toBeNull();

    const checkpoint = line({ type: 'checkpoint', size: 3, note: 'n', rootHash: HASH });
    expect(isCheckpointLine(checkpoint)).toBe(true);
    expect(exportCheckpoint(checkpoint)).toEqual({
      size: 3,
      note: 'n',
      rootHash: Buffer.from(HASH, 'hex'),
    });
    expect(exportEntry(checkpoint)).toBeNull();
    expect(
      exportEntry(line({ type: 'entry', index: 2, canonical: '{}', leafHash: 'AB' })),
    ).toBeNull();
  });

  it('tells a line that is not JSON from JSON that is no object', () => {
    expect(parseExportLine('{"type":')).toBeUndefined();
    for (const text of ['null', '5', '[1]']) {
      const value = parseExportLine(text);
      expect(value).toEqual({});
      expect(exportHeader(value ?? {})).toBeNull();
    }
  });
});
