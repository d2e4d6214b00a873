/** Keys and principals (SPEC §1): creation, authentication, revocation, owner bootstrap. */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BucketError } from '../domain/errors.js';
import {
  keyFactsOf,
  PRINCIPAL_KINDS,
  principalOf,
  type KeyRecord,
  type Principal,
  type PrincipalKind,
} from '../domain/principal.js';
import type { IntegrationRecord } from '../domain/integration.js';
import { ruleOf } from '../domain/policy.js';
import type { ChangeEntry, MetadataStore } from '../storage/ports.js';
import { bootstrapEntry, withEntryMembers } from './ledger.js';
import type { PolicyService } from './policies.js';

export const KEY_PREFIX = 'bkt_';
/** The id of the owner key created at bootstrap (or supplied by BUCKET_OWNER_KEY). */
export const BOOTSTRAP_OWNER_ID = 'key_owner';

export function hashKey(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** A new key: 192 random bits, base64url, with the `bkt_` prefix. */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url');
}

function newKeyId(): string {
  return 'key_' + randomBytes(8).toString('hex');
}

export interface CreateKeyInput {
  readonly kind: string;
  readonly product?: string | null | undefined;
  readonly integrationId?: string | null | undefined;
  readonly name: string;
  readonly expiresAt?: string | null | undefined;
}

export interface CreatedKey {
  readonly record: KeyRecord;
  /** The secret, shown once. */
  readonly key: string;
}

export type KeyStatus = 'active' | 'revoked' | 'expired';

export function keyStatus(key: KeyRecord, now: number): KeyStatus {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now) return 'expired';
  return 'active';
}

const PRODUCT_BOUND: ReadonlySet<PrincipalKind> = new Set(['product', 'ai_agent']);

export class KeyService {
  /** Authentication cache by secret hash; entries are dropped at once on revocation. */
  private readonly cache = new Map<string, KeyRecord>();
  /** Told whenever keys may have changed: caches derived from keys (S3 credentials) follow. */
  private readonly forgetting: (() => void)[] = [];

  constructor(
    private readonly metadata: MetadataStore,
    private readonly policies: PolicyService,
    /** The integrations as they stand now (product and ai_agent keys must name an approved one). */
    private readonly integrations: {
      lookup(product: string | null, id: string | null): IntegrationRecord | null;
      /** Loads an integration another node approved, if this one does not know it yet. */
      ensure?(product: string, id: string): Promise<void>;
    } = {
      lookup: () => null,
    },
  ) {}

  /** Calls `listener` whenever a key is revoked here or keys changed elsewhere (coherence). */
  onForget(listener: () => void): void {
    this.forgetting.push(listener);
  }

  private forgotten(): void {
    for (const listener of this.forgetting) listener();
  }

  /** Empties the authentication cache: another node changed keys (coherence). */
  forgetAll(): void {
    this.cache.clear();
    this.forgotten();
  }

  /** Drops keys from the authentication cache (their integration was revoked). */
  forget(keys: readonly KeyRecord[]): void {
    for (const key of keys) this.cache.delete(key.hash);
    this.forgotten();
  }

  /**
   * Ensures the owner key exists. A generated secret is handed to `persist` (which writes
   * `<dataDir>/owner.key`) before the key is stored, so a crash in between never leaves a key
   * nobody has; it is returned so that the server prints it once. Returns null otherwise.
   */
  async bootstrapOwner(
    suppliedKey: string | undefined,
    persist: (secret: string) => Promise<void>,
  ): Promise<string | null> {
    const existing = await this.metadata.getKey(BOOTSTRAP_OWNER_ID);
    if (existing && suppliedKey === undefined) return null;
    if (existing && suppliedKey !== undefined) {
      if (existing.hash !== hashKey(suppliedKey)) {
        this.cache.delete(existing.hash);
        await this.metadata.setKeyHash(BOOTSTRAP_OWNER_ID, hashKey(suppliedKey));
      }
      return null;
    }
    const secret = suppliedKey ?? generateKey();
    if (suppliedKey === undefined) await persist(secret);
    const record = {
      id: BOOTSTRAP_OWNER_ID,
      hash: hashKey(secret),
      kind: 'owner',
      product: null,
      integrationId: null,
      name: 'owner (bootstrap)',
      createdAt: new Date().toISOString(),
      expiresAt: null,
      revokedAt: null,
    } as const;
    const entry = bootstrapEntry(
      'keys.bootstrap',
      this.policies.versionNumber(),
      'the owner key created at first start',
      { key: keyFactsOf(record) },
    );
    try {
      await this.metadata.insertKey(record, entry);
    } catch (error) {
      // Another node starting on the same new database bootstrapped first: its owner key stands,
      // unless this one was supplied by configuration (then it replaces the hash, as above).
      if (!(await this.metadata.getKey(BOOTSTRAP_OWNER_ID))) throw error;
      if (suppliedKey === undefined) return null;
      await this.metadata.setKeyHash(BOOTSTRAP_OWNER_ID, record.hash);
    }
    return suppliedKey === undefined ? secret : null;
  }

  /** The principal of a presented key, or null when it is unknown, revoked or expired. */
  async authenticate(presented: string): Promise<Principal | null> {
    const hash = hashKey(presented);
    let record = this.cache.get(hash) ?? null;
    if (!record) {
      record = await this.metadata.findKeyByHash(hash);
      if (!record) return null;
      // A key created on another node may name an integration approved there a moment ago.
      if (record.integrationId !== null && record.product !== null) {
        await this.integrations.ensure?.(record.product, record.integrationId);
      }
      this.cache.set(hash, record);
    }
    // The lookup is by hash; compare the whole hash in constant time all the same.
    if (!timingSafeEqual(Buffer.from(record.hash, 'hex'), Buffer.from(hash, 'hex'))) return null;
    if (keyStatus(record, Date.now()) !== 'active') return null;
    return principalOf(record);
  }

  async create(input: CreateKeyInput, entry?: ChangeEntry): Promise<CreatedKey> {
    const kind = input.kind as PrincipalKind;
    if (!PRINCIPAL_KINDS.includes(kind)) {
      throw new BucketError(
        'invalid_request',
        `kind must be one of ${PRINCIPAL_KINDS.join(', ')}, not "${input.kind}"`,
      );
    }
    const products = this.policies.current().document.products;
    let product: string | null = input.product ?? null;
    if (PRODUCT_BOUND.has(kind)) {
      if (product === null) {
        throw new BucketError('invalid_request', `a ${kind} key needs a product`);
      }
      if (!ruleOf(products, product)) {
        throw new BucketError('invalid_request', `no product "${product}" in the policy`);
      }
    } else if (kind === 'core') {
      if (product !== null && product !== 'core') {
        throw new BucketError('invalid_request', 'a core key belongs to the "core" product');
      }
      product = 'core';
    } else if (product !== null) {
      throw new BucketError('invalid_request', `a ${kind} key is not bound to a product`);
    }
    const integrationId = this.integrationFor(kind, product, input.integrationId ?? null);
    const name = input.name.trim();
    if (name.length === 0 || name.length > 200) {
      throw new BucketError('invalid_request', 'name must have 1 to 200 characters');
    }
    let expiresAt: string | null = null;
    if (input.expiresAt) {
      const at = Date.parse(input.expiresAt);
      if (Number.isNaN(at)) {
        throw new BucketError('invalid_request', 'expiresAt must be an ISO-8601 date-time');
      }
      if (at <= Date.now()) throw new BucketError('invalid_request', 'expiresAt is in the past');
      expiresAt = new Date(at).toISOString();
    }
    const key = generateKey();
    const record: KeyRecord = {
      id: newKeyId(),
      hash: hashKey(key),
      kind,
      product,
      integrationId,
      name,
      createdAt: new Date().toISOString(),
      expiresAt,
      revokedAt: null,
    };
    await this.metadata.insertKey(
      record,
      entry && withEntryMembers(entry, { key: keyFactsOf(record) }),
    );
    return { record, key };
  }

  /** SPEC §1: product and ai_agent keys name an approved integration of their product. */
  private integrationFor(
    kind: PrincipalKind,
    product: string | null,
    integrationId: string | null,
  ): string | null {
    if (!PRODUCT_BOUND.has(kind)) {
      if (integrationId) {
        throw new BucketError(
          'invalid_request',
          `a ${kind} key does not act through an integration`,
        );
      }
      return null;
    }
    if (!integrationId) {
      throw new BucketError(
        'invalid_request',
        `integrationId: a ${kind} key must name an approved integration of "${product ?? ''}"`,
      );
    }
    const integration = this.integrations.lookup(product, integrationId);
    if (!integration || integration.revokedAt !== null) {
      throw new BucketError(
        'invalid_request',
        `integrationId: "${integrationId}" is not an approved integration of "${product ?? ''}"`,
      );
    }
    return integration.id;
  }

  async list(): Promise<KeyRecord[]> {
    return this.metadata.listKeys();
  }

  async revoke(id: string, entry?: ChangeEntry): Promise<KeyRecord> {
    const existing = await this.metadata.getKey(id);
    if (!existing) throw new BucketError('key_not_found', `no key "${id}"`);
    if (existing.kind === 'owner' && existing.revokedAt === null) {
      const now = Date.now();
      const activeOwners = (await this.metadata.listKeys()).filter(
        (key) => key.kind === 'owner' && keyStatus(key, now) === 'active',
      );
      if (activeOwners.length <= 1) {
        throw new BucketError(
          'conflict',
          'this is the last active owner key; create another owner key before revoking it',
        );
      }
    }
    const at = new Date().toISOString();
    const revoked = await this.metadata.revokeKey(
      id,
      at,
      entry && withEntryMembers(entry, { key: { id, revokedAt: at } }),
    );
    this.cache.delete(existing.hash);
    this.forgotten();
    if (!revoked) throw new BucketError('key_not_found', `no key "${id}"`);
    return revoked;
  }
}
