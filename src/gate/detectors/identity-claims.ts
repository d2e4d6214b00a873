/**
 * T1/T4 — identity claims (SPEC §1, §5). Identity comes only from the key: for product-scoped
 * keys, a claim in the `x-bucket-meta-*` headers, the query string or the top-level members of
 * JSON content that names another product is T1; a claim naming several products at once (a `,`
 * in it) is T4. A claim naming the caller's own product is harmless.
 */
import { threat, type Threat } from '../../domain/decision.js';
import { isPlainObject } from './walk.js';

/** Fields through which a client could claim an identity. */
export const IDENTITY_CLAIMS = ['product', 'product_id', 'productId', 'owner_id'] as const;
/** Each claim with the lower-case name it arrives under as a header. */
const CLAIMS_AND_HEADER_NAMES = IDENTITY_CLAIMS.map(
  (claim) => [claim, claim.toLowerCase()] as const,
);

function claimThreats(source: string, claim: string, value: string, ownProduct: string): Threat[] {
  const threats: Threat[] = [];
  if (value !== ownProduct) {
    threats.push(threat('T1', `${source}${claim} claims product "${value}"`));
  }
  if (value.includes(',')) {
    threats.push(threat('T4', `${source}${claim} names several products: "${value}"`));
  }
  return threats;
}

/**
 * Claims in one set of request fields. Header names arrive lower-cased, so `productId` is looked
 * up as `productid` too.
 */
export function detectFieldClaims(
  fields: Readonly<Record<string, string>>,
  source: string,
  ownProduct: string,
): Threat[] {
  const threats: Threat[] = [];
  for (const [claim, lowerCase] of CLAIMS_AND_HEADER_NAMES) {
    const value = fields[claim] ?? fields[lowerCase];
    if (value !== undefined) threats.push(...claimThreats(source, claim, value, ownProduct));
  }
  return threats;
}

/** Claims in the `x-bucket-meta-*` headers and the query string. */
export function detectRequestClaims(
  meta: Readonly<Record<string, string>>,
  query: Readonly<Record<string, string>>,
  ownProduct: string,
): Threat[] {
  const threats = detectFieldClaims(meta, 'x-bucket-meta-', ownProduct);
  threats.push(...detectFieldClaims(query, 'query ', ownProduct));
  return threats;
}

/** Claims in the top-level members of JSON content; only string values name a product. */
export function detectContentClaims(json: unknown, ownProduct: string): Threat[] {
  if (!isPlainObject(json)) return [];
  const threats: Threat[] = [];
  for (const claim of IDENTITY_CLAIMS) {
    const value = Object.hasOwn(json, claim) ? json[claim] : undefined;
    if (typeof value === 'string') {
      threats.push(...claimThreats('content member ', claim, value, ownProduct));
    }
  }
  return threats;
}
