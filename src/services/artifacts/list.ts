/** Listing the live artifacts of a product (SPEC §3), a page at a time in (class, name) order. */
import type { ArtifactVersion } from '../../domain/artifact.js';
import { BucketError } from '../../domain/errors.js';
import type { RequestInfo } from '../authorize.js';
import { chargeRate, type ArtifactDeps } from './deps.js';

const DEFAULT_PAGE = 100;

export interface ListRequest extends RequestInfo {
  readonly product: string;
  readonly class?: string | undefined;
  readonly prefix?: string | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
}

export interface ListResult {
  readonly items: ArtifactVersion[];
  readonly nextCursor: string | null;
}

export async function listArtifacts(deps: ArtifactDeps, request: ListRequest): Promise<ListResult> {
  const rate = await chargeRate(deps, 'read', request.product);
  await deps.authorizer.authorize(
    deps.authorizer.context(request, 'artifact.list', {
      product: request.product,
      class: request.class ?? null,
      rate,
    }),
  );
  const pageMax = deps.policies.current().document.limits.listPageMax;
  const limit = Math.max(1, Math.min(request.limit ?? DEFAULT_PAGE, pageMax));
  const items = await deps.metadata.listArtifacts({
    product: request.product,
    class: request.class,
    prefix: request.prefix,
    after: request.cursor === undefined ? undefined : decodeCursor(request.cursor),
    limit: limit + 1,
  });
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page, nextCursor: items.length > limit && last ? encodeCursor(last) : null };
}

function encodeCursor(last: ArtifactVersion): string {
  return Buffer.from(JSON.stringify([last.class, last.name])).toString('base64url');
}

function decodeCursor(cursor: string): { class: string; name: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string'
    ) {
      return { class: value[0], name: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new BucketError('invalid_cursor', 'the cursor is not one this Bucket issued');
}
