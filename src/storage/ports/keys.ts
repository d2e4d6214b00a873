/** The KeyStore port: API keys, stored as hashes only. */
import type { KeyRecord } from '../../domain/principal.js';
import type { ChangeEntry } from './change-entry.js';

/**
 * Keys (hashes only). A change given a `ChangeEntry` appends it in the change's own transaction;
 * every change moves the change stamp.
 */
export interface KeyStore {
  insertKey(key: KeyRecord, entry?: ChangeEntry): Promise<void>;
  findKeyByHash(hash: string): Promise<KeyRecord | null>;
  getKey(id: string): Promise<KeyRecord | null>;
  listKeys(): Promise<KeyRecord[]>;
  /** Marks the key revoked; returns the updated record, or null when it does not exist. */
  revokeKey(id: string, at: string, entry?: ChangeEntry): Promise<KeyRecord | null>;
  /** Replaces the secret hash of a key (the owner key supplied by configuration). */
  setKeyHash(id: string, hash: string): Promise<void>;
}
