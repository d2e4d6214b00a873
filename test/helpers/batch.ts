/** Batch items for the `POST /v1/batch` tests (SPEC §15): an assistant metadata put, NDJSON. */

export const NDJSON = { 'content-type': 'application/x-ndjson' };

/** One item a line. */
export const ndjson = (items: readonly unknown[]) =>
  items.map((item) => JSON.stringify(item)).join('\n');

/** A put of `json` as ai_assistant/metadata/`name`, with `extra` members over it. */
export const put = (name: string, json: unknown, extra: Record<string, unknown> = {}) => ({
  op: 'put',
  product: 'ai_assistant',
  class: 'metadata',
  name,
  json,
  ...extra,
});
