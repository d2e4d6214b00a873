/**
 * The items of a batch (SPEC §15): NDJSON, one item per line, each checked on its own — a line
 * that is not a valid item fails as that item (400 `invalid_batch_item`), the others run. A batch
 * of more than `limits.maxBatch` items, or of more than 64 MiB, is refused whole before any
 * item runs (400 `batch_too_large`).
 */
import type { Readable } from 'node:stream';
import { Ajv } from 'ajv';
import { BucketError } from '../domain/errors.js';
import { SHA256_HEX } from '../domain/sha256.js';
import type { BatchItem } from '../services/artifacts/index.js';
import { checkedMeta } from './artifact-headers.js';

/** SPEC §15: a batch body is at most 64 MiB. */
export const BATCH_MAX_BYTES = 64 * 1024 * 1024;

/** What a header value may hold (the metadata and content type are answered as headers). */
const HEADER_TEXT = '^[\\t\\x20-\\x7e]*$';

const KEY = {
  product: { type: 'string', minLength: 1, maxLength: 64 },
  class: { type: 'string', minLength: 1, maxLength: 64 },
  name: { type: 'string', minLength: 1, maxLength: 1024 },
} as const;

const ITEM_SCHEMA = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['op', 'product', 'class', 'name'],
      properties: {
        op: { const: 'put' },
        ...KEY,
        // Both go into answer headers: printable ASCII only, as a PUT's headers are.
        contentType: { type: 'string', minLength: 1, maxLength: 256, pattern: HEADER_TEXT },
        json: {},
        base64: { type: 'string' },
        meta: { type: 'object', additionalProperties: { type: 'string', pattern: HEADER_TEXT } },
        sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
        ifNoneMatch: { const: '*' },
        ifVersion: { type: 'integer', minimum: 0 },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['op', 'product', 'class', 'name'],
      properties: { op: { const: 'delete' }, ...KEY },
    },
  ],
} as const;

const validItem = new Ajv({ strict: false }).compile(ITEM_SCHEMA);

interface PutLine {
  op: 'put';
  product: string;
  class: string;
  name: string;
  contentType?: string;
  json?: unknown;
  base64?: string;
  meta?: Record<string, string>;
  sha256?: string;
  ifNoneMatch?: '*';
  ifVersion?: number;
}

/**
 * The body, whole (at most BATCH_MAX_BYTES: a batch is counted before any item runs). Past the
 * limit the stream is paused, not destroyed (that would reset the socket before the answer): the
 * caller answers 400 and drains the rest (discard.ts).
 */
export function readBatchBody(body: Readable, declared: number | null): Promise<Buffer> {
  const tooLarge = () =>
    new BucketError('batch_too_large', `a batch is at most ${BATCH_MAX_BYTES} bytes`, {
      headers: { connection: 'close' },
    });
  if (declared !== null && declared > BATCH_MAX_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BATCH_MAX_BYTES) return void chunks.push(chunk);
      body.off('data', onData);
      body.pause();
      reject(tooLarge());
    };
    body.on('data', onData);
    body.once('end', () => resolve(Buffer.concat(chunks, size)));
    body.once('error', reject);
    body.once('aborted', () => reject(new BucketError('client_closed')));
  });
}

/** How a batch route reads its body into items (a route's config names it: certification L4). */
export type BatchReader = (body: Buffer, maxBatch: number) => (BatchItem | Error)[];

/** Every non-empty line as an item, or the error it fails with; more than `maxBatch` → 400. */
export const batchItems: BatchReader = (body, maxBatch) => {
  const lines = body
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  if (lines.length === 0) {
    throw new BucketError('invalid_request', 'the batch has no items (one JSON object per line)');
  }
  if (lines.length > maxBatch) {
    throw new BucketError(
      'batch_too_large',
      `the batch has ${lines.length} items; limits.maxBatch allows ${maxBatch}`,
    );
  }
  return lines.map((line, index) => {
    try {
      return itemOf(line);
    } catch (error) {
      return error instanceof BucketError
        ? error
        : new BucketError('invalid_batch_item', `item ${index}: ${String(error)}`);
    }
  });
};

/**
 * An item's `json` as the bytes to store. JSON.parse takes nesting JSON.stringify cannot walk
 * back (its recursion overflows the stack): such an item is the client's error, not the Bucket's.
 */
function jsonContent(json: unknown): Buffer {
  try {
    return Buffer.from(JSON.stringify(json));
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new BucketError(
      'invalid_batch_item',
      'json is nested too deeply to store: flatten it, or send the bytes as base64',
    );
  }
}

function itemOf(line: string): BatchItem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new BucketError('invalid_batch_item', 'the line is not JSON');
  }
  if (!validItem(parsed)) {
    const first = validItem.errors?.find((error) => error.keyword !== 'oneOf');
    const where = first?.instancePath === '' ? '' : ` at ${first?.instancePath ?? ''}`;
    throw new BucketError(
      'invalid_batch_item',
      `not a put or delete item${where}: ${first?.message ?? 'invalid'}`,
    );
  }
  const item = parsed as PutLine | { op: 'delete'; product: string; class: string; name: string };
  const key = { product: item.product, class: item.class, name: item.name };
  if (item.op === 'delete') return { op: 'delete', ...key };
  const hasJson = Object.hasOwn(item, 'json');
  if (hasJson === (item.base64 !== undefined)) {
    throw new BucketError('invalid_batch_item', 'a put item carries exactly one of json, base64');
  }
  const content = hasJson ? jsonContent(item.json) : Buffer.from(item.base64 ?? '', 'base64');
  if (!hasJson && content.toString('base64') !== (item.base64 ?? '').replace(/\s/g, '')) {
    throw new BucketError('invalid_batch_item', 'base64 is not valid base64');
  }
  const sha256 = item.sha256?.toLowerCase() ?? null;
  if (sha256 !== null && !SHA256_HEX.test(sha256)) {
    throw new BucketError('invalid_batch_item', 'sha256 must be 64 hex digits');
  }
  return {
    op: 'put',
    ...key,
    content,
    contentType: item.contentType ?? (hasJson ? 'application/json' : null),
    meta: checkedMeta(Object.entries(item.meta ?? {}), 'meta.'),
    sha256Claim: sha256,
    preconditions: { ifNoneMatch: item.ifNoneMatch === '*', ifVersion: item.ifVersion ?? null },
  };
}
