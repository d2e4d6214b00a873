/** Principals (SPEC §1): every key is its own principal; identity comes only from the key. */

export const PRINCIPAL_KINDS = [
  'owner',
  'executor',
  'auditor',
  'product',
  'ai_agent',
  'core',
] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

/** Kinds bound to one product namespace. `core` is bound to the `core` product. */
export const PRODUCT_SCOPED_KINDS: ReadonlySet<PrincipalKind> = new Set([
  'product',
  'ai_agent',
  'core',
]);

export interface Principal {
  /** The key's id. */
  readonly id: string;
  readonly kind: PrincipalKind;
  /** The product namespace for product-scoped kinds, else null. */
  readonly product: string | null;
  readonly integrationId: string | null;
}

/** A stored key record (the secret itself is never stored, only its SHA-256). */
export interface KeyRecord {
  readonly id: string;
  readonly hash: string;
  readonly kind: PrincipalKind;
  readonly product: string | null;
  readonly integrationId: string | null;
  readonly name: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

/**
 * A key's facts: its record but the secret's hash. What the owner sees of a key, and what the
 * audit entry of its creation records (`bucket audit verify` matches the row against it).
 */
export const KEY_FACTS = [
  'id',
  'kind',
  'product',
  'integrationId',
  'name',
  'createdAt',
  'expiresAt',
] as const satisfies readonly (keyof KeyRecord)[];

export type KeyFacts = Pick<KeyRecord, (typeof KEY_FACTS)[number]>;

/** Field by field, not picked in a loop: every copy gets the same hidden class. */
export function keyFactsOf(key: KeyRecord): KeyFacts {
  return {
    id: key.id,
    kind: key.kind,
    product: key.product,
    integrationId: key.integrationId,
    name: key.name,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt,
  };
}

export function principalOf(key: KeyRecord): Principal {
  return { id: key.id, kind: key.kind, product: key.product, integrationId: key.integrationId };
}
