/**
 * T2 — a client setting server-managed fields (SPEC §5): top-level JSON members beginning with
 * `_` (`_id`, `_version`, `_sha256`), and `x-bucket-meta-*` headers shadowing the fields the
 * Bucket records itself.
 */
import { threat, type Threat } from '../../domain/decision.js';
import { isPlainObject } from './walk.js';

/** `x-bucket-meta-<key>` keys that would shadow a server field in the answer's headers. */
export const RESERVED_META_KEYS = new Set(['sha256', 'version', 'created-by', 'created-at']);

export function detectReservedMembers(json: unknown): Threat[] {
  if (!isPlainObject(json)) return [];
  return Object.keys(json)
    .filter((key) => key.startsWith('_'))
    .map((key) => threat('T2', `server-managed member "${key}" set by the client`));
}

export function detectReservedMeta(meta: Readonly<Record<string, string>>): Threat[] {
  return Object.keys(meta)
    .filter((key) => RESERVED_META_KEYS.has(key))
    .map((key) => threat('T2', `x-bucket-meta-${key} shadows a server-managed field`));
}
