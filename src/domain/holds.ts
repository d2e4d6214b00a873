/**
 * Legal holds (SPEC §8): a case's hold on a product (optionally one class, optionally a name
 * prefix) or on a data subject. Pure: which holds cover a version.
 */
import type { ArtifactVersion } from './artifact.js';

export type HoldScope =
  | {
      readonly product: string;
      readonly class?: string | undefined;
      readonly prefix?: string | undefined;
    }
  | { readonly subject: string };

export interface LegalHold {
  readonly id: string;
  readonly scope: HoldScope;
  readonly caseRef: string;
  readonly reason: string;
  readonly placedAt: string;
  readonly placedBy: string;
  readonly liftedAt: string | null;
  readonly liftedBy: string | null;
  readonly liftReason: string | null;
}

/** What a hold is matched against: a version's place and its data subject, if any. */
export interface HoldTarget {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly subject: string | null;
}

/**
 * A version's data subject: its subject column (the index the export and subject holds read), set
 * from the `x-bucket-meta-subject` the write named.
 */
export function subjectOf(version: Pick<ArtifactVersion, 'subject'>): string | null {
  return version.subject ?? null;
}

export function holdTargetOf(version: ArtifactVersion): HoldTarget {
  return {
    product: version.product,
    class: version.class,
    name: version.name,
    subject: subjectOf(version),
  };
}

export function holdCovers(hold: LegalHold, target: HoldTarget): boolean {
  if (hold.liftedAt !== null) return false;
  const scope = hold.scope;
  if ('subject' in scope) return target.subject !== null && scope.subject === target.subject;
  if (scope.product !== target.product) return false;
  if (scope.class !== undefined && scope.class !== target.class) return false;
  return scope.prefix === undefined || target.name.startsWith(scope.prefix);
}

/**
 * The active holds, indexed for the check every read and tombstone makes: by product, and the
 * subject holds apart (a version's subject is not known from its place).
 */
export class ActiveHolds {
  private readonly byProduct = new Map<string, LegalHold[]>();
  private readonly bySubject = new Map<string, LegalHold[]>();
  /** How many holds are active. */
  readonly size: number = 0;

  constructor(holds: readonly LegalHold[]) {
    for (const hold of holds) {
      if (hold.liftedAt !== null) continue;
      this.size += 1;
      const [index, key] =
        'subject' in hold.scope
          ? [this.bySubject, hold.scope.subject]
          : [this.byProduct, hold.scope.product];
      const list = index.get(key);
      if (list) list.push(hold);
      else index.set(key, [hold]);
    }
  }

  /** The active holds covering the target (none, usually: two map lookups). */
  covering(target: HoldTarget): LegalHold[] {
    const found: LegalHold[] = [];
    for (const hold of this.byProduct.get(target.product) ?? []) {
      if (holdCovers(hold, target)) found.push(hold);
    }
    if (target.subject !== null) found.push(...(this.bySubject.get(target.subject) ?? []));
    return found;
  }
}

/** A hold as the API answers it (SPEC §8 pinned members). */
export function holdView(hold: LegalHold) {
  return {
    id: hold.id,
    scope: hold.scope,
    caseRef: hold.caseRef,
    reason: hold.reason,
    placedAt: hold.placedAt,
    placedBy: hold.placedBy,
    liftedAt: hold.liftedAt,
    liftedBy: hold.liftedBy,
    liftReason: hold.liftReason,
  };
}
