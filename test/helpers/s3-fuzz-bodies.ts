/**
 * Hostile S3 request bodies (SPEC §13) for test/e2e/s3/fuzz*.test.ts: XML for
 * CompleteMultipartUpload and DeleteObjects — malformed, huge, deeply nested, with DOCTYPE and
 * entity tricks, parts out of order, duplicated, unknown or without ETags, 10,001 of them — and
 * aws-chunked bodies cut short, altered, without their final chunk or lying about a chunk's size.
 */
import fc from 'fast-check';
import type { ChunkedBody } from './s3-fuzz.js';
import { junk, keyArb } from './s3-fuzz-arbitraries.js';

/** XML bodies: malformed, huge, deep, DOCTYPE and entity tricks, wrong and duplicated parts. */
const xmlArb = (root: string, item: fc.Arbitrary<string>) =>
  fc.oneof(
    {
      arbitrary: fc
        .array(item, { maxLength: 6 })
        .map((items) => `<${root}>${items.join('')}</${root}>`),
      weight: 3,
    },
    fc.constantFrom(
      '',
      '<',
      `<${root}>`,
      `<${root}></${root}>`,
      `<${root}/>`,
      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><${root}>&b;</${root}>`,
      `<!DOCTYPE x SYSTEM "file:///etc/passwd"><${root}/>`,
      `<${root}><![CDATA[<Part>]]></${root}>`,
      `<${root}>&#0;</${root}>`,
      `<${root}>&#xD800;</${root}>`,
      `<${root}>&#99999999999;</${root}>`,
      `<${root}>&unknown;</${root}>`,
      `<${root} xmlns="urn:x" a="1" a="2"></${root}>`,
      `<a:${root} xmlns:a="x"></a:${root}>`,
      `<${root}></Other>`,
      `<${root}></${root}><${root}></${root}>`,
      `${'<a>'.repeat(50_000)}${'</a>'.repeat(50_000)}`,
      `<${root}>${'<Part>'.repeat(20_000)}`,
      `<${root}>${'x'.repeat(1_100_000)}</${root}>`,
      `<${root}><!-- ${'-'.repeat(100)} </${root}>`,
      '\uFEFF<x/>',
    ),
  );

const partNumberText = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 3 }).map(String), weight: 4 },
  junk,
);
/** `right`: the part's own ETag (`@etagN`, as the fixture uploaded it); else a wrong one. */
const etagText = fc.oneof(
  { arbitrary: fc.constantFrom('right', 'right unquoted'), weight: 4 },
  fc.constantFrom('"@etag1"', '"@etag2"', '', '"', '""', '"00000000000000000000000000000000"'),
  junk,
);
const partXml = fc
  .record({ number: fc.option(partNumberText, { freq: 8 }), etag: fc.option(etagText) })
  .map(({ number, etag }) => {
    const tag =
      etag === 'right'
        ? `"@etag${number ?? 1}"`
        : etag === 'right unquoted'
          ? `@etag${number ?? 1}`
          : etag;
    return `<Part>${number === null ? '' : `<PartNumber>${number}</PartNumber>`}${
      tag === null ? '' : `<ETag>${tag}</ETag>`
    }</Part>`;
  });
export const completionXml = fc.oneof(
  { arbitrary: xmlArb('CompleteMultipartUpload', partXml), weight: 8 },
  {
    arbitrary: fc.constant(
      `<CompleteMultipartUpload>${Array.from(
        { length: 10_001 },
        (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>x</ETag></Part>`,
      ).join('')}</CompleteMultipartUpload>`,
    ),
    weight: 1,
  },
);
export const deleteXml = xmlArb(
  'Delete',
  fc
    .record({ key: fc.option(keyArb), version: fc.option(junk), quiet: fc.boolean() })
    .map(
      ({ key, version, quiet }) =>
        `${quiet ? '<Quiet>true</Quiet>' : ''}<Object>${key === null ? '' : `<Key>${key.replace(/[<&]/g, '')}</Key>`}${
          version === null ? '' : `<VersionId>${version.replace(/[<&]/g, '')}</VersionId>`
        }</Object>`,
    ),
);

export const chunkedArb: fc.Arbitrary<ChunkedBody> = fc.record({
  mode: fc.constantFrom('signed' as const, 'trailer' as const, 'signed-trailer' as const),
  data: fc.string({ maxLength: 200 }),
  chunkSize: fc.integer({ min: 1, max: 64 }),
  tamper: fc.oneof(
    { arbitrary: fc.constant('none' as const), weight: 5 },
    fc.constantFrom(
      'truncate' as const,
      'flip' as const,
      'no-final' as const,
      'size-lie' as const,
      'huge-header' as const,
    ),
  ),
  trailer: fc.option(
    fc.constantFrom(
      'x-amz-checksum-crc32:AAAAAA==',
      'x-amz-checksum-sha256:' + 'A'.repeat(44),
      'x-amz-checksum-crc32',
      ':',
      'x-amz-checksum-crc32:' + 'A'.repeat(9000),
      'x-amz-other:1\r\nx-amz-checksum-crc32:AAAAAA==',
    ),
    { nil: undefined, freq: 2 },
  ),
});
