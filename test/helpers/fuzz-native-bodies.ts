/**
 * Hostile request bodies for the native API's fuzz tests: JSON of the fields the OpenAPI document
 * names with values of every wrong type, batch lines (SPEC §15), broken JSON, invalid UTF-8,
 * nesting too deep to walk and bodies over the size limit.
 */
import fc from 'fast-check';
import { CONTENT_TYPES, nameArbitrary } from './fuzz-native.js';

/** Fields request bodies name (from the OpenAPI document and SPEC), plus claims and traps. */
const BODY_FIELDS = [
  'kind',
  'product',
  'integrationId',
  'name',
  'expiresAt',
  'document',
  'reason',
  'version',
  'scope',
  'caseRef',
  'dryRun',
  'subject',
  'mode',
  'resolution',
  'title',
  'justification',
  'patch',
  'durationMinutes',
  'url',
  'types',
  'input',
  'agent_name',
  'input_data',
  'basket_name',
  'integrationType',
  'productName',
  'artifactClasses',
  'dataSchema',
  'operationType',
  'artifactClass',
  'dataSize',
  'until',
  'op',
  'class',
  'json',
  'base64',
  'meta',
  'sha256',
  '_id',
  '$set',
  '__proto__',
  'password',
  'bypass',
];

const fieldArbitrary = fc.constantFrom(...BODY_FIELDS);

/** A JSON value of a type nobody expects where it is put, sometimes an object of known fields. */
const jsonValueArbitrary: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(
      null,
      true,
      -1,
      0,
      1e308,
      -1e308,
      1.5,
      2 ** 53 + 1,
      'NaN',
      '',
      'x'.repeat(70_000),
      [],
      {},
      [null],
      'mongodb://u:p@h/db',
      '-P1Y',
      'P1Y',
      '2026-99-99',
      '2020-01-01T00:00:00Z',
      'ai_avatar',
      'ai_assistant',
      'metadata',
      'sdk',
      'put',
      'delete',
      'http://127.0.0.1:1/',
    ),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.integer(),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fieldArbitrary, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A batch line (SPEC §15): a put or delete of ai_assistant metadata, fields often wrong. */
const batchLineArbitrary: fc.Arbitrary<unknown> = fc.record(
  {
    op: fc.oneof({ weight: 4, arbitrary: fc.constant('put') }, fc.constantFrom('delete', 'get', 1)),
    product: fc.oneof({ weight: 4, arbitrary: fc.constant('ai_assistant') }, jsonValueArbitrary),
    class: fc.oneof({ weight: 4, arbitrary: fc.constant('metadata') }, jsonValueArbitrary),
    name: fc.oneof(
      { weight: 4, arbitrary: fc.nat().map((n) => `fuzz/b${n}`) },
      nameArbitrary.map((name) => {
        try {
          return decodeURIComponent(name);
        } catch {
          return name;
        }
      }),
    ),
    json: jsonValueArbitrary,
    base64: fc.constantFrom('', '====', 'eyJhIjoxfQ==', '\u0000', 'x'.repeat(10)),
    contentType: fc.constantFrom(...CONTENT_TYPES, 'a\nb'),
    meta: fc.dictionary(
      fc.constantFrom('subject', 'sha256', 'retention', 'timestamp', 'x', ''),
      jsonValueArbitrary,
      { maxKeys: 2 },
    ),
    sha256: fc.constantFrom('0'.repeat(64), 'z'.repeat(64), 'abc'),
    ifNoneMatch: fc.constantFrom('*', 'x'),
    ifVersion: fc.constantFrom(-1, 0, 1, 1e308, 1.5, '1'),
  },
  { requiredKeys: ['op', 'product', 'class', 'name'] },
);

/** Arrays nested `depth` deep, as text (JSON.stringify itself overflows on the deepest). */
const nestedText = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/**
 * A body's bytes, or undefined for none. `fields` are the route's own body members (from its
 * OpenAPI schema): the JSON bodies name them more often than the others.
 */
export function bodyArbitrary(fields: readonly string[]): fc.Arbitrary<Buffer | undefined> {
  const field =
    fields.length === 0
      ? fieldArbitrary
      : fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...fields) },
          { weight: 1, arbitrary: fieldArbitrary },
        );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      // A known field (or a batch line's json) holding nesting no code path should recurse into.
      arbitrary: fc
        .tuple(field, fc.constantFrom(70, 5000, 100_000), fc.boolean())
        .map(([field, depth, inObject]) => {
          // Inside an object, the deep part passes schemas that only look at the top.
          const deep = inObject ? `{"x":${nestedText(depth)}}` : nestedText(depth);
          return Buffer.from(
            field === 'json'
              ? `{"op":"put","product":"ai_assistant","class":"metadata","name":"fuzz/deep","json":${deep}}`
              : `{"${field}":${deep}}`,
          );
        }),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(
          '',
          '{',
          '[]',
          'null',
          '"x"',
          '1e308',
          '{"a":1}{"b":2}',
          '\n\n\n',
          '{"a":}',
          '\uFEFF{}',
          `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
          `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
          `{"pad":"${'x'.repeat(1_100_000)}"}`,
        )
        .map((text) => Buffer.from(text)),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 64 })
        .map((bytes) =>
          Buffer.concat([
            Buffer.from('{"a":"'),
            bytes,
            Buffer.from([0xc3, 0x28, 0xff]),
            Buffer.from('"}'),
          ]),
        ),
    },
    {
      weight: 5,
      arbitrary: fc
        .dictionary(field, jsonValueArbitrary, { maxKeys: 6 })
        .map((object) => Buffer.from(JSON.stringify(object))),
    },
    {
      weight: 3,
      arbitrary: fc
        .array(
          fc.oneof(batchLineArbitrary, fc.dictionary(field, jsonValueArbitrary, { maxKeys: 6 })),
          {
            maxLength: 4,
          },
        )
        .map((lines) => Buffer.from(lines.map((line) => JSON.stringify(line)).join('\n'))),
    },
  );
}
