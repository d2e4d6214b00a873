/**
 * The audit ledger (SPEC §6): the one place a decision becomes an audit entry. A denial, and an
 * allow that changes nothing, are recorded as they are decided (429s aggregated per principal per
 * second, SPEC §4.3); the allow of a change is left pending for the change's own transaction to
 * append; a request that fails after it was allowed is recorded as the failure it is, never as a
 * success.
 */
import { randomUUID } from 'node:crypto';
import { failureOf, type AuditDraft, type AuditReceipt } from '../audit/entry.js';
import { threat, type Decision } from '../domain/decision.js';
import { BucketError } from '../domain/errors.js';
import type { AuditStore, ChangeEntry } from '../storage/ports.js';

/** The 429s of one principal in one second: the first refusal's draft and how many there were. */
export interface RateRefusalSecond {
  readonly draft: AuditDraft;
  readonly count: number;
  /** Unix time in seconds. */
  readonly second: number;
}

export interface LedgerOptions {
  /** Told of each second's aggregated rate refusals once their entries are stored (T5). */
  readonly onRateRefusals?: (refusals: readonly RateRefusalSecond[]) => Promise<void>;
}

interface Aggregate {
  draft: AuditDraft;
  count: number;
  second: number;
}

export class AuditLedger {
  private readonly aggregates = new Map<string, Aggregate>();
  private aggregateTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Pick<AuditStore, 'appendAudit'>,
    private readonly options: LedgerOptions = {},
  ) {}

  /**
   * Records a decision as it is made. A rate refusal (429) joins its principal's entry for the
   * current second and returns null; every other decision is appended before this resolves.
   */
  async record(draft: AuditDraft): Promise<AuditReceipt | null> {
    if (draft.decision.status === 429 && !draft.decision.allow) {
      this.aggregate(draft);
      return null;
    }
    return this.append(draft);
  }

  /**
   * The entry of an allowed change, left for the change's store to append in the change's own
   * transaction (the `entry` of a governance mutation); its `receipt` is set once it is. A change
   * that changed nothing leaves it unappended: `record(entry.draft)` before the answer then.
   */
  pendingEntry(decision: Decision, requestId: string): ChangeEntry {
    return { draft: { decision, requestId }, receipt: null };
  }

  /**
   * A request that failed after `allowed`: its failure entry — a conflict, a refused commit, a
   * broken stream, a key that does not exist. A denial carries its own decision, already recorded.
   * Never throws: the original error is the answer, and a failing store shows on /health.
   */
  async recordFailure(allowed: Decision, requestId: string, error: unknown): Promise<void> {
    if (error instanceof BucketError && error.decision) return;
    const decision =
      error instanceof BucketError
        ? failureOf(
            allowed,
            error.status,
            error.code,
            error.message,
            // A commit refused by the storage limits' re-check is T5 (SPEC §2.3).
            error.threats ??
              (error.code === 'insufficient_storage' ? [threat('T5', error.message)] : []),
          )
        : failureOf(allowed, 500, 'internal_error', 'the request failed after it was allowed');
    try {
      await this.append({ decision, requestId });
    } catch {
      // See above: the answer is the original error.
    }
  }

  /** Flushes the aggregated 429s; the store must still be open. */
  async close(): Promise<void> {
    await this.flushAggregates();
  }

  private async append(draft: AuditDraft): Promise<AuditReceipt> {
    const [receipt] = await this.store.appendAudit([draft]);
    if (!receipt) throw new Error('the audit store returned no receipt');
    return receipt;
  }

  private aggregate(draft: AuditDraft): void {
    const second = Math.floor(Date.now() / 1000);
    const key = `${draft.decision.principal.id}\u0000${second}`;
    const existing = this.aggregates.get(key);
    if (existing) {
      existing.count += 1;
      return;
    }
    this.aggregates.set(key, { draft, count: 1, second });
    if (!this.aggregateTimer) {
      this.aggregateTimer = setTimeout(
        () => {
          this.aggregateTimer = null;
          this.flushAggregates().catch(() => {
            // The store is failing; /health says so. The counts of that second are lost with it.
          });
        },
        1000 - (Date.now() % 1000) + 5,
      );
      this.aggregateTimer.unref();
    }
  }

  private async flushAggregates(): Promise<void> {
    if (this.aggregateTimer) clearTimeout(this.aggregateTimer);
    this.aggregateTimer = null;
    if (this.aggregates.size === 0) return;
    const seconds = [...this.aggregates.values()];
    this.aggregates.clear();
    await this.store.appendAudit(seconds.map(({ draft, count }) => ({ ...draft, count })));
    await this.options.onRateRefusals?.(seconds);
  }
}

/**
 * A change's allow entry with members that say what it changed (a policy's diff, a key's facts, a
 * hold's case reference, a mode switch's mode). The receipt the store sets on it is set on `entry`, which the request's
 * answer reads.
 */
export function withEntryMembers(
  entry: ChangeEntry,
  members: Pick<AuditDraft, 'policy' | 'key' | 'governance' | 'purge' | 'mode' | 'incident'>,
): ChangeEntry {
  return {
    draft: { ...entry.draft, ...members },
    get receipt() {
      return entry.receipt;
    },
    set receipt(receipt) {
      entry.receipt = receipt;
    },
  };
}

/** Who the entries of the Bucket's own changes name: the Bucket itself, with an owner's rights. */
export const SYSTEM_PRINCIPAL: Decision['principal'] = {
  id: 'system',
  kind: 'owner',
  product: null,
};

/**
 * The entry of a change the Bucket makes itself (at its first start: the owner key, the shipped
 * policy as version 1; later: an exception's expiry, rule `exception_expiry`): allowed by no
 * request, recorded like any change so that verification finds an entry for everything stored.
 */
export function bootstrapEntry(
  operation: string,
  policyVersion: number,
  message: string,
  more: Pick<AuditDraft, 'policy' | 'key' | 'governance'>,
  rule = 'bootstrap',
): ChangeEntry {
  const decision: Decision = {
    id: randomUUID(),
    allow: true,
    status: 201,
    operation,
    principal: SYSTEM_PRINCIPAL,
    target: { product: null, class: null, name: null },
    reasons: [{ rule, message }],
    threats: [],
    policyVersion,
  };
  return { draft: { decision, requestId: randomUUID(), ...more }, receipt: null };
}
