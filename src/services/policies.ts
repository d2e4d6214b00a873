/**
 * The live policy: the only source of rules. Version 1 is the shipped default; the owner replaces
 * it through the API (SPEC §2), each change a new stored version that takes effect on the very
 * next request.
 */
import { threat } from '../domain/decision.js';
import { BucketError } from '../domain/errors.js';
import type { PolicyDocument, PolicyVersion } from '../domain/policy.js';
import { diffDocuments, jsonPatch, type PolicyChange } from '../policy/diff.js';
import { policyHash } from '../domain/canonical.js';
import { floorBreaches } from '../policy/floors.js';
import { defaultPolicyVersion } from '../policy/load.js';
import { policyErrors, type PolicyError } from '../policy/validate.js';
import type { ChangeEntry, MetadataStore } from '../storage/ports.js';
import { bootstrapEntry, withEntryMembers } from './ledger.js';

export interface PolicyUpdate {
  readonly document: unknown;
  readonly reason: string;
  /** The principal (key id) making the change. */
  readonly by: string;
}

export interface PolicyVersionWithDiff {
  readonly policy: PolicyVersion;
  /** The version this one replaced, or null for version 1. */
  readonly previousVersion: number | null;
  /** Changes from the previous version's document (empty for version 1). */
  readonly diff: PolicyChange[];
}

/** What marks a policy version an approved exception made (SPEC §9). */
export interface ExceptionMark {
  readonly exceptionId: string;
  readonly expiresAt: string | null;
}

/** Stores a new version with its entry (which carries the version, hash and patch). */
export type PolicyStoreStep = (version: PolicyVersion, entry?: ChangeEntry) => Promise<void>;

export interface PolicyUpdateResult {
  /** The live version: the new one, or the current one when the document was already live. */
  readonly policy: PolicyVersion;
  /** False when the document is the live one (same canonical hash): no version was made. */
  readonly changed: boolean;
}

export class PolicyService {
  private live: PolicyVersion | null = null;
  /** Why the live version cannot be used (a row edited by hand), or null: see `adopt`. */
  private unusable: string | null = null;
  /** Updates run one at a time, so that version numbers never race. */
  private updates: Promise<unknown> = Promise.resolve();

  constructor(private readonly metadata: MetadataStore) {}

  /** Loads the latest stored version, storing the shipped default as version 1 on a new store. */
  async init(): Promise<void> {
    let latest = await this.metadata.latestPolicy();
    if (!latest) {
      const first = defaultPolicyVersion();
      const entry = bootstrapEntry(
        'policy.bootstrap',
        first.version,
        'the shipped default policy, stored as version 1 at first start',
        { policy: { version: first.version, hash: first.hash, patch: [] } },
      );
      try {
        await this.metadata.insertPolicy(first, entry);
      } catch (error) {
        // Another node starting on the same new database stored version 1 first.
        if (!(await this.metadata.latestPolicy())) throw error;
      }
      latest = await this.metadata.latestPolicy();
      if (!latest) throw new Error('the default policy was not stored');
    }
    this.adopt(latest);
  }

  /** Takes the latest stored version, which another node may have written (coherence). */
  async reload(): Promise<void> {
    const latest = await this.metadata.latestPolicy();
    if (latest && (!this.live || latest.version > this.live.version)) this.adopt(latest);
  }

  /**
   * The live version. A stored version that fails the schema or its own hash (a row edited in the
   * database, never a version made through the API) is not used: everything that needs the policy
   * fails closed with 503 `gate_unavailable` — the gate's stages as a fail-closed decision, the
   * services around it likewise — never a 500 from a half-read document. The owner's off-switch
   * does not read the policy (gate/stages/fixed.ts).
   */
  current(): PolicyVersion {
    const live = this.unchecked();
    const problem = this.problem();
    if (problem !== null) throw new BucketError('gate_unavailable', problem);
    return live;
  }

  /**
   * The live version even when it is unusable: what a gate context carries. The gate refuses to
   * decide on it (fail closed, audited) while `problem()` names one (gate/decide.ts).
   */
  unchecked(): PolicyVersion {
    if (!this.live) throw new Error('policy not loaded');
    return this.live;
  }

  /** Why the live version cannot be used, as an answer's message; null when it can. */
  problem(): string | null {
    if (this.unusable === null) return null;
    return (
      `the stored policy version ${this.versionNumber()} is unusable (${this.unusable}); ` +
      'nothing was done: the owner restores a usable version (POST ' +
      '/v1/governance/policy/restore, `bucket policy restore N`)'
    );
  }

  /** The live version's number, also when it is unusable (health, incidents' entries). */
  versionNumber(): number {
    return this.live?.version ?? 0;
  }

  /** Whether the live version can be used (health reports the gate degraded otherwise). */
  usable(): boolean {
    return this.live !== null && this.unusable === null;
  }

  private adopt(version: PolicyVersion): void {
    this.unusable = unusableBecause(version);
    this.live = version;
  }

  /**
   * Makes stored version `n` live again as the next version (owner; decided by the fixed stage, so
   * that it also works while the live version is unusable: the repair of decision 0040). The
   * version restored must itself be usable and pass today's floors and in-use checks, as any
   * update does; its entry records `restoredFrom`.
   */
  restore(n: number, reason: string, by: string, entry?: ChangeEntry): Promise<PolicyUpdateResult> {
    const next = this.updates.then(async () => {
      await this.reload();
      const found = await this.metadata.getPolicy(n);
      if (!found) throw new BucketError('policy_version_not_found', `no policy version ${n}`);
      const problem = unusableBecause(found);
      if (problem !== null) {
        throw new BucketError(
          'invalid_policy',
          `policy version ${n} cannot be restored: ${problem}; restore an earlier version`,
        );
      }
      const restoredEntry =
        entry &&
        withEntryMembers(entry, { governance: { ...entry.draft.governance, restoredFrom: n } });
      return this.apply({ document: found.document, reason, by }, restoredEntry);
    });
    this.updates = next.catch(() => undefined);
    return next;
  }

  /** The live document when it is usable, else the newest stored version that is. */
  private async lastUsableDocument(): Promise<PolicyDocument | null> {
    if (this.usable()) return this.current().document;
    const versions = await this.metadata.listPolicies();
    const usable = versions
      .filter((version) => unusableBecause(version) === null)
      .sort((a, b) => b.version - a.version)[0];
    return usable?.document ?? null;
  }

  /**
   * Validates and stores `update.document` as the next version, then makes it live in one step.
   * Refuses (400 `invalid_policy`) a document that fails the schema or its cross-references,
   * (403 `policy_floor`, T4) one that relaxes a floor of SPEC §9 (policy/floors.ts), and
   * (409 `policy_in_use`) one that removes a product or class with stored artifacts. The live
   * document again (the same canonical hash) changes nothing: no version is stored, and the
   * answer is the live version with `changed: false`.
   */
  update(update: PolicyUpdate, entry?: ChangeEntry): Promise<PolicyUpdateResult> {
    return this.change(() => update, entry);
  }

  /**
   * As `update`, with the document made from the live version inside the queue (an exception's
   * patch applies to the live document), and stored by `store` when given (a change that stores
   * the version with something of its own in one transaction: services/exceptions.ts).
   */
  change(
    make: (live: PolicyVersion) => PolicyUpdate,
    entry?: ChangeEntry,
    store?: PolicyStoreStep,
  ): Promise<PolicyUpdateResult> {
    const next = this.updates.then(async () => {
      // "The live document" is the latest version on any node, not this node's last reload.
      await this.reload();
      return this.apply(make(this.current()), entry, store);
    });
    this.updates = next.catch(() => undefined);
    return next;
  }

  private async apply(
    update: PolicyUpdate,
    entry: ChangeEntry | undefined,
    store: PolicyStoreStep = (version, withPolicy) =>
      this.metadata.insertPolicy(version, withPolicy),
  ): Promise<PolicyUpdateResult> {
    const errors = policyErrors(update.document);
    if (errors.length > 0) {
      throw new BucketError('invalid_policy', describe(errors), { details: { errors } });
    }
    const document = update.document as PolicyDocument;
    const breaches = floorBreaches(document);
    if (breaches.length > 0) {
      const message = describe(breaches);
      throw new BucketError('policy_floor', message, {
        details: { floors: breaches },
        threats: [threat('T4', `a policy version relaxing a floor: ${message}`)],
      });
    }
    // Unchecked: a restore replaces an unusable live version (an update never gets here then:
    // the gate refuses it first).
    const current = this.unchecked();
    const hash = policyHash(document);
    if (hash === current.hash && this.usable()) return { policy: current, changed: false };
    const from = await this.lastUsableDocument();
    const inUse = from ? await this.removedButStored(from, document) : [];
    if (inUse.length > 0) {
      throw new BucketError('policy_in_use', describe(inUse), { details: { errors: inUse } });
    }
    const version: PolicyVersion = {
      version: current.version + 1,
      hash,
      document,
      reason: update.reason,
      createdAt: new Date().toISOString(),
      createdBy: update.by,
    };
    const policy = {
      version: version.version,
      hash,
      patch: jsonPatch(current.document, document),
    };
    // SPEC §2: every change is recorded with its version, hash and diff.
    await store(version, entry && withEntryMembers(entry, { policy }));
    this.adopt(version);
    return { policy: version, changed: true };
  }

  /** Products and classes the new document drops while artifacts of them are still stored. */
  private async removedButStored(from: PolicyDocument, to: PolicyDocument): Promise<PolicyError[]> {
    const errors: PolicyError[] = [];
    for (const product of Object.keys(from.products)) {
      if (!Object.hasOwn(to.products, product) && (await this.metadata.hasArtifacts({ product }))) {
        errors.push({
          path: `/products/${product}`,
          message: 'removed while artifacts are stored',
        });
      }
    }
    for (const classId of Object.keys(from.classes)) {
      if (
        !Object.hasOwn(to.classes, classId) &&
        (await this.metadata.hasArtifacts({ class: classId }))
      ) {
        errors.push({ path: `/classes/${classId}`, message: 'removed while artifacts are stored' });
      }
    }
    return errors;
  }

  async versions(): Promise<PolicyVersion[]> {
    return this.metadata.listPolicies();
  }

  /**
   * The versions an approved exception made (SPEC §9: marked with its `exceptionId` and
   * `expiresAt`), by version number.
   */
  async exceptionMarks(): Promise<Map<number, ExceptionMark>> {
    const marks = new Map<number, ExceptionMark>();
    for (const exception of await this.metadata.listExceptions()) {
      if (exception.policyVersion === null) continue;
      marks.set(exception.policyVersion, {
        exceptionId: exception.id,
        expiresAt: exception.expiresAt,
      });
    }
    return marks;
  }

  async version(n: number): Promise<PolicyVersionWithDiff> {
    const policy = await this.metadata.getPolicy(n);
    if (!policy) throw new BucketError('policy_version_not_found', `no policy version ${n}`);
    const previous = n > 1 ? await this.metadata.getPolicy(n - 1) : null;
    return {
      policy,
      previousVersion: previous?.version ?? null,
      diff: previous ? diffDocuments(previous.document, policy.document) : [],
    };
  }
}

/** Why a stored version cannot be decided on (schema, hash), or null when it can. */
function unusableBecause(version: PolicyVersion): string | null {
  const errors = policyErrors(version.document);
  if (errors.length > 0) return `it fails the policy schema: ${describe(errors)}`;
  if (policyHash(version.document) !== version.hash) {
    return 'its document does not match its recorded hash';
  }
  return null;
}

export function describe(errors: readonly Pick<PolicyError, 'path' | 'message'>[]): string {
  const shown = errors.slice(0, 5).map((error) => `${error.path || '/'}: ${error.message}`);
  const more = errors.length > 5 ? `; and ${errors.length - 5} more` : '';
  return `${shown.join('; ')}${more}`;
}
