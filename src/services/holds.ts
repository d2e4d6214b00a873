/**
 * Legal holds (SPEC §8): placed and lifted by the owner with a case reference, kept in history,
 * and checked on every read and tombstone from memory — the active holds, indexed, reloaded after
 * each change of this node and, in scale-out, when the change stamp moves (services/coherence.ts).
 */
import { randomUUID } from 'node:crypto';
import { BucketError } from '../domain/errors.js';
import { ActiveHolds, holdTargetOf, type HoldScope, type LegalHold } from '../domain/holds.js';
import type { ArtifactVersion } from '../domain/artifact.js';
import { ruleOf } from '../domain/policy.js';
import type { Principal } from '../domain/principal.js';
import type { ChangeEntry, MetadataStore } from '../storage/ports.js';
import { withEntryMembers } from './ledger.js';
import type { PolicyService } from './policies.js';

export interface PlaceHold {
  readonly scope: HoldScope;
  readonly caseRef: string;
  readonly reason: string;
}

export class HoldService {
  private active = new ActiveHolds([]);

  constructor(
    private readonly metadata: MetadataStore,
    private readonly policies: PolicyService,
    private readonly now: () => number,
  ) {}

  async init(): Promise<void> {
    await this.reload();
  }

  /** Reads the holds again: this node or another placed or lifted one. */
  async reload(): Promise<void> {
    this.active = new ActiveHolds(await this.metadata.listHolds());
  }

  /** The active holds covering a version (SPEC §8: tombstone refused, purge skipped, header). */
  covering(version: ArtifactVersion): LegalHold[] {
    return this.active.size === 0 ? [] : this.active.covering(holdTargetOf(version));
  }

  async list(activeOnly: boolean): Promise<LegalHold[]> {
    const holds = await this.metadata.listHolds();
    return activeOnly ? holds.filter((hold) => hold.liftedAt === null) : holds;
  }

  async place(request: PlaceHold, principal: Principal, entry?: ChangeEntry): Promise<LegalHold> {
    this.checkScope(request.scope);
    const hold: LegalHold = {
      id: `hold_${randomUUID()}`,
      scope: request.scope,
      caseRef: request.caseRef,
      reason: request.reason,
      placedAt: new Date(this.now()).toISOString(),
      placedBy: principal.id,
      liftedAt: null,
      liftedBy: null,
      liftReason: null,
    };
    await this.metadata.insertHold(
      hold,
      entry && withHoldRecord(entry, 'placed', hold, hold.reason),
    );
    await this.reload();
    return hold;
  }

  /** A product or class scope names what the policy knows (a subject is any valid id). */
  private checkScope(scope: HoldScope): void {
    if ('subject' in scope) return;
    const document = this.policies.current().document;
    if (!ruleOf(document.products, scope.product)) {
      throw new BucketError('invalid_request', `no product "${scope.product}" in the policy`);
    }
    if (scope.class !== undefined && !ruleOf(document.classes, scope.class)) {
      throw new BucketError('invalid_request', `no class "${scope.class}" in the policy`);
    }
  }

  async lift(
    id: string,
    reason: string,
    principal: Principal,
    entry?: ChangeEntry,
  ): Promise<LegalHold> {
    const existing = (await this.metadata.listHolds()).find((hold) => hold.id === id);
    if (!existing) throw new BucketError('hold_not_found', `no legal hold "${id}"`);
    if (existing.liftedAt !== null) {
      throw new BucketError('conflict', `legal hold ${id} was lifted at ${existing.liftedAt}`);
    }
    const lift = { at: new Date(this.now()).toISOString(), by: principal.id, reason };
    const lifted = await this.metadata.liftHold(
      id,
      lift,
      entry && withHoldRecord(entry, 'lifted', existing, reason),
    );
    await this.reload();
    if (!lifted) throw new BucketError('conflict', `legal hold ${id} was lifted meanwhile`);
    return lifted;
  }
}

/** The allow entry of a hold's change, with its case reference (SPEC §8: audited with it). */
function withHoldRecord(
  entry: ChangeEntry,
  verb: 'placed' | 'lifted',
  hold: LegalHold,
  reason: string,
): ChangeEntry {
  return withEntryMembers(entry, {
    governance: { hold: { id: hold.id, verb, scope: hold.scope, caseRef: hold.caseRef, reason } },
  });
}
