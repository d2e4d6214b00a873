/**
 * S3 credentials of keys (SPEC §13, owner): an access key id and a secret access key per
 * credential, the secret shown once and stored wrapped by the key-encryption key (SigV4 needs the
 * secret itself, unlike bearer keys, which are stored as hashes). A credential acts as its key's
 * principal: revoking or suspending the key does the same to it. Lookups for the S3 door are
 * cached for at most a second, and dropped at once whenever the key service forgets keys: a key
 * or credential revoked here, or keys changed by another process or node (coherence, which the
 * door consults before each request as the native door does). A cached key's expiry is checked
 * on every lookup.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { BucketError } from '../domain/errors.js';
import { principalOf, type KeyRecord, type Principal } from '../domain/principal.js';
import type { MasterKey } from '../storage/master-key.js';
import type { ChangeEntry, MetadataStore, S3CredentialRecord } from '../storage/ports.js';
import { keyStatus } from './keys.js';
import { withEntryMembers } from './ledger.js';

const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Not AKIA/ASIA: the content detectors (SPEC §5 T1) look for AWS's own prefixes. */
const ACCESS_KEY_PREFIX = 'BKT';
const CACHE_MS = 1000;
const CACHE_MAX = 10_000;

/** What the wrapped secret of a credential is bound to (its associated data). */
export function s3SecretContext(accessKeyId: string): string {
  return `s3-secret:${accessKeyId}`;
}

export function generateAccessKeyId(): string {
  let id = ACCESS_KEY_PREFIX;
  while (id.length < 20) id += ACCESS_KEY_ALPHABET[randomInt(ACCESS_KEY_ALPHABET.length)];
  return id;
}

/** 40 characters of base64 (240 random bits), like AWS's secret access keys. */
export function generateSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

export interface S3CredentialView {
  readonly accessKeyId: string;
  readonly keyId: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface CreatedS3Credential extends S3CredentialView {
  readonly secretAccessKey: string;
}

/** A credential the S3 door may verify a signature with, and the principal it acts as. */
export interface ResolvedS3Credential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly principal: Principal;
}

/** A cached lookup: the credential, and its key (whose expiry is checked on every use). */
interface Found {
  readonly key: KeyRecord;
  readonly resolved: ResolvedS3Credential;
}

function view(record: S3CredentialRecord): S3CredentialView {
  return {
    accessKeyId: record.accessKeyId,
    keyId: record.keyId,
    createdAt: record.createdAt,
    revokedAt: record.revokedAt,
  };
}

export class S3CredentialService {
  private readonly cache = new Map<string, { at: number; found: Found | null }>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly masterKey: MasterKey,
    private readonly now: () => number = Date.now,
    /** The key service: its revocations and coherence reloads empty this cache too. */
    keys?: { onForget(listener: () => void): void },
  ) {
    keys?.onForget(() => this.forgetAll());
  }

  private async activeKey(keyId: string) {
    const key = await this.metadata.getKey(keyId);
    if (!key) throw new BucketError('key_not_found', `no key "${keyId}"`);
    return key;
  }

  async create(keyId: string, entry?: ChangeEntry): Promise<CreatedS3Credential> {
    const key = await this.activeKey(keyId);
    if (keyStatus(key, this.now()) !== 'active') {
      throw new BucketError('conflict', `the key "${keyId}" is revoked or expired`);
    }
    const accessKeyId = generateAccessKeyId();
    const secretAccessKey = generateSecretAccessKey();
    const record: S3CredentialRecord = {
      accessKeyId,
      keyId,
      wrappedSecret: this.masterKey.wrap(
        Buffer.from(secretAccessKey, 'utf8'),
        s3SecretContext(accessKeyId),
      ),
      createdAt: new Date(this.now()).toISOString(),
      revokedAt: null,
    };
    await this.metadata.insertS3Credential(
      record,
      entry && withEntryMembers(entry, { governance: { s3Credential: { accessKeyId, keyId } } }),
    );
    return { ...view(record), secretAccessKey };
  }

  async list(keyId: string): Promise<S3CredentialView[]> {
    await this.activeKey(keyId);
    return (await this.metadata.listS3Credentials(keyId)).map(view);
  }

  async revoke(keyId: string, accessKeyId: string, entry?: ChangeEntry): Promise<S3CredentialView> {
    const at = new Date(this.now()).toISOString();
    const revoked = await this.metadata.revokeS3Credential(
      keyId,
      accessKeyId,
      at,
      entry &&
        withEntryMembers(entry, {
          governance: { s3Credential: { accessKeyId, keyId, revokedAt: at } },
        }),
    );
    this.cache.delete(accessKeyId);
    if (!revoked) {
      throw new BucketError(
        'not_found',
        `the key "${keyId}" has no S3 credential "${accessKeyId}"`,
      );
    }
    return view(revoked);
  }

  /**
   * The secret and principal of an access key id, or null when the credential or its key is
   * unknown, revoked or expired (suspension is the authorizer's: it refuses before deciding).
   */
  async resolve(accessKeyId: string): Promise<ResolvedS3Credential | null> {
    const now = this.now();
    let cached = this.cache.get(accessKeyId);
    if (!cached || now - cached.at >= CACHE_MS) {
      cached = { at: now, found: await this.load(accessKeyId, now) };
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(accessKeyId, cached);
    }
    const { found } = cached;
    return found && keyStatus(found.key, now) === 'active' ? found.resolved : null;
  }

  private async load(accessKeyId: string, now: number): Promise<Found | null> {
    const record = await this.metadata.getS3Credential(accessKeyId);
    if (!record || record.revokedAt !== null) return null;
    const key = await this.metadata.getKey(record.keyId);
    if (!key || keyStatus(key, now) !== 'active') return null;
    const secret = this.masterKey.unwrap(record.wrappedSecret, s3SecretContext(accessKeyId));
    const secretAccessKey = secret.toString('utf8');
    return { key, resolved: { accessKeyId, secretAccessKey, principal: principalOf(key) } };
  }

  /** Forgets every cached lookup (keys changed, here or elsewhere). */
  forgetAll(): void {
    this.cache.clear();
  }
}
