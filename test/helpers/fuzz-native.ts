/**
 * Hostile request parts for the native API's fuzz tests (test/e2e/fuzz-native*.test.ts): fast-check
 * generators of paths (from the routes the app registered, `app.gateBindings`), query strings,
 * callers and headers. Bodies: ./fuzz-native-bodies.ts; whole requests and the judgement of their
 * answers: ./fuzz-native-requests.ts.
 */
import fc from 'fast-check';

/** A route as registered: one method, its URL pattern (`:param`, `*`) and its body's members. */
export interface FuzzRoute {
  readonly method: string;
  readonly url: string;
  readonly fields: readonly string[];
}

/** The OpenAPI document's parts read here: each operation's JSON body members. */
export interface OpenApiDocument {
  readonly paths: Record<
    string,
    Record<
      string,
      { requestBody?: { content?: Record<string, { schema?: { properties?: object } }> } }
    >
  >;
}

/**
 * Every (method, url) the app registered, one method each (the docs' static files aside), with
 * the body members `openapi` documents for it.
 */
export function fuzzRoutes(
  bindings: readonly { method: string; url: string }[],
  openapi: OpenApiDocument,
): FuzzRoute[] {
  const fields = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(openapi.paths)) {
    const url = path.replace(/\{\*\}/g, '*').replace(/\{([^}]+)\}/g, ':$1');
    for (const [method, operation] of Object.entries(operations)) {
      const members = Object.values(operation.requestBody?.content ?? {}).flatMap((media) =>
        Object.keys(media.schema?.properties ?? {}),
      );
      fields.set(`${method.toUpperCase()} ${url}`, members);
    }
  }
  return bindings
    .filter((binding) => !binding.url.startsWith('/docs/static'))
    .flatMap((binding) =>
      binding.method.split(',').map((method) => ({
        method,
        url: binding.url,
        fields: fields.get(`${method} ${binding.url}`) ?? [],
      })),
    );
}

/** Values that are wrong in as many ways as we could think of, percent-encoded for a path. */
const HOSTILE_SCALARS = [
  '',
  '-1',
  '0',
  '1e308',
  '-1e308',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '9'.repeat(40),
  '00000000000000000001',
  'null',
  'true',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  '$where',
  'a,b',
  "'; DROP TABLE artifacts; --",
  '<script>alert(1)</script>',
  '..',
  '.',
  'caf\u00e9',
  '\u{1F600}',
  '\u202e\u0000\u0001',
  '\u0007\n\r\t',
  'P-1Y',
  '2026-13-45T99:99:99Z',
  'bkt_' + 'x'.repeat(40),
  'x'.repeat(600),
  'y'.repeat(5000),
  'ai_assistant',
  'metadata',
  'normal',
  'CREATE',
];

/** Percent-encodings a decoder must refuse or that decode to bytes no name may hold. */
const RAW_ENCODINGS = [
  '%',
  '%Z',
  '%ZZ',
  '%C3%28',
  '%FF%FE',
  '%E0%80%80',
  '%00',
  '%0A',
  '%7F',
  '%2F',
];

/** One path segment or query value, already in its wire form. */
export const wireValueArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_SCALARS).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_ENCODINGS) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 12 }), fc.constantFrom(...RAW_ENCODINGS))
      .map(([text, raw]) => encodeURIComponent(text) + raw),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.integer().map(String) },
);

/** An artifact name (the `*` of the artifact routes): valid, hostile or a sub-resource. */
export const nameArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.nat().map((n) => `fuzz/n${n}`) },
  fc.constantFrom('fuzz/existing', 'fuzz/absent', 'x/versions', 'x/restore', 'x/retention'),
  fc.array(wireValueArbitrary, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/')),
  fc
    .tuple(
      fc.constantFrom('fuzz/existing', 'a'),
      fc.constantFrom('versions', 'restore', 'retention'),
    )
    .map((parts) => parts.join('/')),
);

/** A value for the route parameter `name` (`product` and `class` lean towards real ones). */
function paramArbitrary(name: string, url: string): fc.Arbitrary<string> {
  const real: Record<string, string[]> = {
    product: ['ai_assistant', 'ai_avatar', 'core', 'workflow_engine', 'nope'],
    class: ['metadata', 'model_checkpoint', 'avatar_config', 'user_credentials', 'nope'],
    // Agents and baskets (runs), policy versions, audit indices, data subjects.
    name: url.startsWith('/v1/baskets')
      ? ['finance_daily_check', 'vehicle_care']
      : ['cashflow_analyzer', 'sanskrit_parser'],
    n: ['1', '2'],
    index: ['0', '1'],
    subject: ['subject-1'],
  };
  const known = real[name];
  return known
    ? fc.oneof(
        { weight: 6, arbitrary: fc.constant(known[0] as string) },
        { weight: 2, arbitrary: fc.constantFrom(...known) },
        { weight: 1, arbitrary: wireValueArbitrary },
      )
    : wireValueArbitrary;
}

/** A concrete path for `url`, every `:param` and `*` filled. */
export function pathArbitrary(url: string): fc.Arbitrary<string> {
  const parts = url
    .split('/')
    .map((part) =>
      part === '*'
        ? nameArbitrary
        : part.startsWith(':')
          ? paramArbitrary(part.slice(1), url)
          : fc.constant(part),
    );
  return fc.tuple(...parts).map((filled) => filled.join('/'));
}

/** Query parameter names: those the API documents, claims, bypass words and nonsense. */
const QUERY_NAMES = [
  'version',
  'class',
  'prefix',
  'limit',
  'cursor',
  'atomic',
  'product',
  'artifact',
  'principal',
  'decision',
  'threat',
  'since',
  'index',
  'size',
  'from',
  'to',
  'type',
  'active',
  'reason',
  'status',
  'after',
  'basket',
  'product_id',
  'productId',
  'owner_id',
  'bypass',
  'override',
  'skip_audit',
  'emergency',
  '__proto__',
  'constructor',
  'a[b]',
  'a[]',
  '',
];

/** A query string (without `?`), possibly empty, with duplicates and raw garbage. */
export const queryArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constant('') },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.tuple(fc.constantFrom(...QUERY_NAMES), wireValueArbitrary), {
        minLength: 1,
        maxLength: 3,
      })
      .map((pairs) =>
        pairs.map(([name, value]) => `${encodeURIComponent(name)}=${value}`).join('&'),
      ),
  },
  { weight: 1, arbitrary: fc.constantFrom('%', '&&&', '=x', 'limit', 'limit=1&limit=2', 'a=%ZZ') },
);

/** Who asks: a named key of the fuzz server, or a broken Authorization header. */
export type Caller =
  | { readonly key: 'owner' | 'product' | 'agent' | 'executor' | 'auditor' | 'revoked' }
  | { readonly authorization: string | string[] | null };

export const callerArbitrary: fc.Arbitrary<Caller> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constant({ key: 'product' } as Caller),
  },
  {
    weight: 6,
    arbitrary: fc
      .constantFrom('owner', 'product', 'agent', 'executor', 'auditor', 'revoked')
      .map((key) => ({ key }) as Caller),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<string | string[] | null>(
        null,
        '',
        'Bearer',
        'Bearer ',
        'bearer bkt_nope',
        'Basic dXNlcjpwYXNz',
        'Bearer bkt_' + 'A'.repeat(4000),
        'Bearer \u00ff\u00fe',
        ['Bearer bkt_a', 'Bearer bkt_b'],
      )
      .map((authorization) => ({ authorization })),
  },
);

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-16',
  'application/x-ndjson',
  'application/octet-stream',
  'text/plain',
  'text/markdown',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/json, text/plain',
  'garbage',
  '/',
  ';',
];

/** Header values that are wrong for whatever header carries them. */
const HEADER_GARBAGE = [
  '',
  '-1',
  '1e308',
  'NaN',
  '*',
  'bytes=',
  'bytes=5-1',
  'bytes=-0',
  'bytes=0-1,2-3',
  'bytes=99999999999999999999-',
  'items=0-1',
  '"\u00ff"',
  'W/"x", "y"',
  'not a date',
  'Thu, 01 Jan 1970 00:00:00 GMT',
  'x'.repeat(8000),
  '0'.repeat(64),
  'z'.repeat(64),
  'P-1Y',
  '100-continue',
];

const HEADER_NAMES = [
  'range',
  'if-range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'x-bucket-if-version',
  'x-bucket-sha256',
  'x-bucket-meta-sha256',
  'x-bucket-meta-subject',
  'x-bucket-meta-retention',
  'x-bucket-meta-timestamp',
  'x-bucket-meta-product',
  'x-bucket-meta-',
  'x-bucket-meta-big',
  'last-event-id',
  'expect',
  'accept',
  'accept-encoding',
  'content-encoding',
  'x-bypass',
  'x-override',
];

/** Extra headers: a few of the names above with garbage, one of them sometimes sent twice. */
export const headersArbitrary: fc.Arbitrary<Record<string, string | string[]>> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({}) },
  fc
    .array(
      fc.tuple(
        fc.constantFrom(...HEADER_NAMES),
        fc.oneof(
          fc.constantFrom(...HEADER_GARBAGE),
          fc.constantFrom(...HEADER_GARBAGE).map((value) => [value, value]),
        ),
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((pairs) => Object.fromEntries(pairs)),
);
