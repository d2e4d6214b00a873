/**
 * Stored governance records checked against the entries that made them (SPEC §2, §6): every
 * policy version's document against its recorded hash, the hash its change's entry carries and
 * the JSON Patch (RFC 6902) from the version before; every key against the entry that created it,
 * and every key an entry revoked still revoked.
 */
import { policyHash } from '../domain/canonical.js';
import type { PolicyVersion } from '../domain/policy.js';
import { KEY_FACTS, type KeyRecord } from '../domain/principal.js';
import { applyJsonPatch, type JsonPatchOperation } from '../policy/diff.js';
import { isJsonObject } from './entry.js';
import type { Problems } from './verify-report.js';

/** The operations whose allowed entries create a key, and the one that revokes it. */
const KEY_CREATIONS: ReadonlySet<unknown> = new Set(['keys.create', 'keys.bootstrap']);
const KEY_REVOCATION = 'keys.revoke';

interface PolicyClaim {
  readonly index: number;
  readonly hash: unknown;
  readonly patch: unknown;
}

interface KeyClaim {
  readonly index: number;
  readonly facts: Record<string, unknown>;
}

/** What the entries say of policy versions and keys, matched with the stored ones. */
export class GovernanceClaims {
  private readonly policies = new Map<unknown, PolicyClaim>();
  private readonly keys = new Map<unknown, KeyClaim>();
  /** Key ids an entry revoked, with the first such entry. */
  private readonly revoked = new Map<unknown, number>();

  constructor(private readonly problems: Problems) {}

  /** Records what an allowed entry says it made. */
  record(index: number, parsed: Record<string, unknown>): void {
    if (parsed['allow'] !== true) return;
    const { policy, key, operation } = parsed;
    if (isJsonObject(policy)) this.claimPolicy(index, policy);
    if (!isJsonObject(key)) return;
    if (KEY_CREATIONS.has(operation)) this.claimKey(index, key);
    else if (operation === KEY_REVOCATION && !this.revoked.has(key['id'])) {
      this.revoked.set(key['id'], index);
    }
  }

  private claimPolicy(index: number, policy: Record<string, unknown>): void {
    const earlier = this.policies.get(policy['version']);
    if (earlier) {
      this.problems.add(
        'claim_duplicate',
        `audit entries ${earlier.index} and ${index} both claim policy version ${String(policy['version'])}`,
      );
      return;
    }
    this.policies.set(policy['version'], { index, hash: policy['hash'], patch: policy['patch'] });
  }

  private claimKey(index: number, key: Record<string, unknown>): void {
    const earlier = this.keys.get(key['id']);
    if (earlier) {
      this.problems.add(
        'claim_duplicate',
        `audit entries ${earlier.index} and ${index} both create key ${String(key['id'])}`,
      );
      return;
    }
    this.keys.set(key['id'], { index, facts: key });
  }

  /** Every policy version, oldest first, against its hash, its entry and the one before. */
  matchPolicies(versions: readonly PolicyVersion[]): void {
    const { problems } = this;
    let previous: PolicyVersion | null = null;
    for (const stored of versions) {
      const label = `policy version ${stored.version}`;
      const computed = policyHash(stored.document);
      if (computed !== stored.hash) {
        problems.add(
          'policy_hash_mismatch',
          `${label}: its document hashes to ${computed}, its recorded hash is ${stored.hash}`,
        );
      }
      const claim = this.policies.get(stored.version);
      this.policies.delete(stored.version);
      if (!claim) {
        problems.add('policy_unaudited', `${label} has no audit entry`);
      } else if (claim.hash !== computed) {
        problems.add(
          'policy_mismatch',
          `${label}: its document hashes to ${computed}, audit entry ${claim.index} recorded ${String(claim.hash)}`,
        );
      } else if (previous && previous.version === stored.version - 1) {
        checkPatch(label, claim, previous, computed, problems);
      }
      previous = stored;
    }
    for (const [version, claim] of this.policies) {
      problems.add(
        'claim_unstored',
        `audit entry ${claim.index} claims policy version ${String(version)} which is not stored`,
      );
    }
  }

  /** Every key against the entry that created it; keys an entry revoked must still be. */
  matchKeys(keys: readonly KeyRecord[]): void {
    const { problems } = this;
    for (const stored of keys) {
      const label = `key ${stored.id} (${stored.kind})`;
      const claim = this.keys.get(stored.id);
      this.keys.delete(stored.id);
      if (!claim) {
        problems.add('key_unaudited', `${label} has no audit entry that created it`);
      } else {
        const differing = KEY_FACTS.filter((name) => claim.facts[name] !== stored[name]);
        if (differing.length > 0) {
          problems.add(
            'key_mismatch',
            `${label}: ${differing.map((name) => `${name} ${JSON.stringify(stored[name])}`).join(', ')} ` +
              `differ from audit entry ${claim.index} (${differing
                .map((name) => `${name} ${JSON.stringify(claim.facts[name] ?? null)}`)
                .join(', ')})`,
          );
        }
      }
      const revokedBy = this.revoked.get(stored.id);
      if (revokedBy !== undefined && stored.revokedAt === null) {
        problems.add(
          'key_mismatch',
          `${label}: revoked by audit entry ${revokedBy}, but its row is not revoked`,
        );
      }
    }
    for (const [id, claim] of this.keys) {
      problems.add(
        'claim_unstored',
        `audit entry ${claim.index} created key ${String(id)} which is not stored`,
      );
    }
  }
}

/** The entry's patch applied to the version before must give this version's document. */
function checkPatch(
  label: string,
  claim: PolicyClaim,
  previous: PolicyVersion,
  computed: string,
  problems: Problems,
): void {
  let patched: string;
  try {
    if (!Array.isArray(claim.patch)) throw new Error('it carries no patch');
    const document = applyJsonPatch(previous.document, claim.patch as JsonPatchOperation[]);
    patched = policyHash(document as PolicyVersion['document']);
  } catch (error) {
    problems.add(
      'policy_mismatch',
      `${label}: the patch of audit entry ${claim.index} does not apply to version ` +
        `${previous.version} (${(error as Error).message})`,
    );
    return;
  }
  if (patched !== computed) {
    problems.add(
      'policy_mismatch',
      `${label}: the patch of audit entry ${claim.index} applied to version ${previous.version} ` +
        `does not give its document`,
    );
  }
}
