/**
 * `PUT /v1/artifacts/{product}/{class}/{name}/retention` (SPEC §8): the owner's change of a
 * version's retention. The artifact routes keep bodies as raw streams (routes/artifacts.ts hands
 * this sub-resource over), so its small JSON body is read and checked here.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Bucket } from '../../bucket.js';
import { isVersionNumber, MAX_VERSION } from '../../domain/artifact.js';
import { BucketError } from '../../domain/errors.js';
import { ACTIONS } from '../../gate/actions.js';
import { requestInfo } from '../request.js';

const MAX_BODY = 16 * 1024;
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

export const RETENTION_SUFFIX = '/retention';

interface RetentionBody {
  readonly version: number | undefined;
  readonly until: string | null;
  readonly reason: string;
}

async function readJson(request: FastifyRequest): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new BucketError('payload_too_large', `at most ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BucketError('invalid_json', 'the body must be {"until", "reason", "version"?}');
  }
}

/** `{version?, until: ISO-8601 | null, reason}`, `until` normalized to a UTC instant. */
export function retentionBody(value: unknown): RetentionBody {
  const bad = (message: string) => new BucketError('invalid_request', message);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw bad('the body must be a JSON object {"until", "reason", "version"?}');
  }
  const body = value as Record<string, unknown>;
  const unknown = Object.keys(body).filter((k) => !['version', 'until', 'reason'].includes(k));
  if (unknown.length > 0) throw bad(`unknown members: ${unknown.join(', ')}`);
  const { version, until, reason } = body;
  if (version !== undefined && !isVersionNumber(version as number)) {
    throw bad(`version must be an integer from 1 to ${MAX_VERSION}`);
  }
  if (!('until' in body)) throw bad('until is required: an ISO-8601 instant, or null (permanent)');
  if (until !== null && (typeof until !== 'string' || !INSTANT.test(until))) {
    throw bad('until must be an ISO-8601 date or instant, or null (permanent)');
  }
  const instant = until === null ? null : Date.parse(until);
  if (instant !== null && Number.isNaN(instant)) throw bad(`until "${String(until)}" is no date`);
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 1000) {
    throw bad('reason is required (1–1000 characters): retention changes are audited with it');
  }
  return {
    version: version as number | undefined,
    until: instant === null ? null : new Date(instant).toISOString(),
    reason,
  };
}

export async function putRetention(
  bucket: Bucket,
  request: FastifyRequest,
  reply: FastifyReply,
  params: { product: string; class: string; '*': string },
) {
  const info = requestInfo(request);
  // SPEC §4.1: a caller not allowed on the route at all gets its 403 before any 400 about the
  // body — the gate decides it (stage 1, with its threats) on a body it never reads.
  const allowed = ACTIONS['artifact.retention'].kinds.includes(info.principal.kind);
  const body = allowed
    ? retentionBody(await readJson(request))
    : { version: undefined, until: null, reason: '' };
  const result = await bucket.artifacts.retention({
    ...info,
    product: params.product,
    class: params.class,
    name: params['*'].slice(0, -RETENTION_SUFFIX.length),
    ...body,
  });
  const { version } = result;
  // The route's 200 schema is the write answer's; this sub-resource answers its own shape.
  return reply.code(200).type('application/json; charset=utf-8').serializer(JSON.stringify).send({
    product: version.product,
    class: version.class,
    name: version.name,
    version: version.version,
    retention: version.retention,
    previous: result.previous,
  });
}
