/**
 * The parts of hostile S3 requests (SPEC §13) for test/e2e/s3/fuzz*.test.ts: garbage and huge
 * parameter and header values, keys without a class or with `..`, NUL and invalid escapes, paths
 * that do not decode, digests, ranges and preconditions that mean nothing, and how a request is
 * signed (mostly well, so that it reaches the operations). Bodies: s3-fuzz-bodies.ts; whole
 * requests: s3-fuzz-requests.ts.
 */
import fc from 'fast-check';
import type { Signing } from './s3-fuzz.js';
import { escapeSegment } from '../../src/s3/sigv4.js';

export const FUZZ_PRODUCT = 'ai_avatar';
/** An object the fixture writes: reads of it reach Range and the preconditions. */
export const FUZZ_OBJECT = 'model_checkpoint/fuzz/kept.ckpt';

const huge = (length: number) => fc.constant('9'.repeat(length));

/** Text a parameter or header should never hold. */
export const junk: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '-1',
      '0',
      '1',
      '2',
      '+1',
      '1e3',
      '0x10',
      '1.5',
      '-0',
      'NaN',
      'null',
      'true',
      '10000',
      '10001',
      '2147483648',
      '9007199254740993',
      '99999999999',
      '1'.repeat(40),
      '%',
      '%00',
      '\u0000',
      '\u0001\u001f',
      '\u202e',
      '..',
      '../../etc/passwd',
      'ä',
      '😀',
      '\uFFFF',
      '<x>&amp;</x>',
      '0123456789abcdef0123456789abcdef',
      'AAAAAAAAAAAAAAAAAAAAAA==',
    ),
    weight: 4,
  },
  // Numbers around the limits of the stores' integers (2^31, 2^53, 10 digits) and beyond.
  {
    arbitrary: fc
      .oneof(
        fc.integer({ min: -10, max: 20 }),
        fc.integer({ min: 2_147_483_640, max: 2_147_483_660 }),
        fc.integer({ min: 4_294_967_290, max: 9_999_999_999 }),
        fc.constantFrom(2 ** 53, 2 ** 63, 1e20, 1e308),
      )
      .map((n) => BigInt(n).toString()),
    weight: 3,
  },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.oneof(huge(1000), huge(5000), huge(20_000)), weight: 1 },
);

/** A header value Node will send (no control characters, nothing past U+00FF). */
export const headerJunk = junk.map((text) => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?'));

const CLASSES = ['model_checkpoint', 'avatar_config', 'unknown_class', 'access_control', ''];

/** Object keys (decoded): good ones, ones without a class, traversal, NUL, unicode, long. */
export const keyArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    FUZZ_OBJECT,
    '@key',
    'noclass',
    'model_checkpoint/',
    '/model_checkpoint/x',
    'model_checkpoint//x',
    'model_checkpoint/../x',
    'model_checkpoint/a/../../b',
    'model_checkpoint/./x',
    'model_checkpoint/x\u0000y',
    'model_checkpoint/ünï/😀',
    'model_checkpoint/versions',
    'model_checkpoint/fuzz/new.ckpt',
    'avatar_config/fuzz/new.json',
    `model_checkpoint/${'a'.repeat(600)}`,
    `model_checkpoint/${'a/'.repeat(3000)}b`,
  ),
  fc
    .tuple(fc.constantFrom(...CLASSES), fc.string({ unit: 'binary', maxLength: 40 }))
    .map(([klass, name]) => `${klass}/${name}`),
);

/** A path to the key as sent: encoded, partly raw, or with escapes that decode to nothing. */
export const pathArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.constantFrom(FUZZ_PRODUCT, 'no_such_product', 'AI_AVATAR', 'ai_avatar%00'), keyArb)
    .map(([bucket, key]) =>
      key === '@key'
        ? `/${bucket}/@key`
        : `/${bucket}/${key.split('/').map(escapeSegment).join('/')}`,
    ),
  fc.constantFrom(
    `/${FUZZ_PRODUCT}/model_checkpoint/%ZZ`,
    `/${FUZZ_PRODUCT}/model_checkpoint/%C0%AF`,
    `/${FUZZ_PRODUCT}/model_checkpoint/%ED%A0%80`,
    `/${FUZZ_PRODUCT}/model_checkpoint/%FF%FE`,
    `/${FUZZ_PRODUCT}/model_checkpoint/%2e%2e/%2e%2e/x`,
    `/${FUZZ_PRODUCT}/model_checkpoint/../../x`,
    `/${FUZZ_PRODUCT}/model_checkpoint/a%2Fb`,
    `/${FUZZ_PRODUCT}/%00/x`,
    `//${FUZZ_PRODUCT}//x`,
    `/${FUZZ_PRODUCT}/model_checkpoint/\u00e9`,
    `/${FUZZ_PRODUCT}/model_checkpoint/x#frag`,
    '/%',
    '/*',
  ),
);

export const signingArb: fc.Arbitrary<Signing> = fc.oneof(
  { arbitrary: fc.constant('good' as const), weight: 12 },
  fc.constantFrom('bad' as const, 'none' as const, 'skewed' as const, 'garbage' as const),
);

/** A few query parameters, each a name from `names` with junk (or an empty value). */
export function paramsArb(names: readonly string[]): fc.Arbitrary<Record<string, string>> {
  return fc
    .uniqueArray(fc.tuple(fc.constantFrom(...names), junk), {
      maxLength: 4,
      selector: ([name]) => name,
    })
    .map((pairs) => Object.fromEntries(pairs));
}

/** A few headers, each a name from `names` with junk. */
export function headersArb(names: readonly string[]): fc.Arbitrary<Record<string, string>> {
  return fc
    .uniqueArray(fc.tuple(fc.constantFrom(...names), headerJunk), {
      maxLength: 3,
      selector: ([name]) => name,
    })
    .map((pairs) => Object.fromEntries(pairs));
}

export const CONDITIONS = [
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'x-amz-checksum-mode',
];
export const RANGES = fc.constantFrom(
  'bytes=0-0',
  'bytes=5-1',
  'bytes=-0',
  'bytes=-99999999999999999999',
  'bytes=0-99999999999999999999',
  'bytes=1-2,3-4',
  'bytes=abc',
  'bytes=',
  'items=0-1',
  `bytes=${'0-1,'.repeat(500)}0-1`,
);
export const DIGESTS = [
  'content-md5',
  'x-amz-checksum-crc32',
  'x-amz-checksum-crc32c',
  'x-amz-checksum-sha1',
  'x-amz-checksum-sha256',
  'x-amz-checksum-crc64nvme',
  'x-amz-checksum-algorithm',
  'x-amz-sdk-checksum-algorithm',
  'content-type',
  'if-none-match',
  'x-amz-meta-subject',
  'x-amz-meta-x',
  'x-amz-decoded-content-length',
  'content-encoding',
  'x-amz-trailer',
  'x-amz-copy-source',
  'x-amz-metadata-directive',
  'expect',
];
