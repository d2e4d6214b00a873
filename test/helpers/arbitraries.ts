/**
 * The fast-check generators the property tests share: who asks (a principal kind and its own
 * product) and what it asks for (a target product, a class, an operation), drawn from the SPEC
 * tables in ./spec-tables.ts.
 */
import fc from 'fast-check';
import type { PrincipalKind } from '../../src/domain/principal.js';
import { KINDS, PRODUCT_IDS, PRODUCTS } from './spec-tables.js';

export type Op = 'CREATE' | 'READ' | 'UPDATE' | 'DELETE';
export const OPS: readonly Op[] = ['CREATE', 'READ', 'UPDATE', 'DELETE'];

/** A principal: its kind, and the product it belongs to (`core` for core, null for the rest). */
export interface Asker {
  readonly kind: PrincipalKind;
  readonly own: string | null;
}

export const askerArbitrary: fc.Arbitrary<Asker> = fc
  .constantFrom(...KINDS)
  .chain((kind) =>
    (kind === 'product' || kind === 'ai_agent'
      ? fc.constantFrom(...PRODUCT_IDS)
      : fc.constant(kind === 'core' ? 'core' : null)
    ).map((own) => ({ kind, own })),
  );

export interface GateCase extends Asker {
  readonly target: string;
  readonly classId: string;
  readonly op: Op;
}

export interface GateCaseOptions {
  /** The products a key aims at besides its own (one draw in four). */
  readonly targets: readonly string[];
  /** The target of a key without a product of its own (one draw in four it is one of `targets`). */
  readonly ownerlessTarget: string;
  /** The classes drawn besides those the target admits (one draw in four; always, if none). */
  readonly classes: readonly string[];
}

/**
 * Cases biased toward the interesting corner: a key on its own product and a class that product
 * admits (a uniform draw would almost never combine an ai_agent, its own product and an UPDATE).
 */
export function gateCaseArbitrary(options: GateCaseOptions): fc.Arbitrary<GateCase> {
  return askerArbitrary.chain(({ kind, own }) =>
    fc
      .oneof(
        { weight: 3, arbitrary: fc.constant(own ?? options.ownerlessTarget) },
        { weight: 1, arbitrary: fc.constantFrom(...options.targets) },
      )
      .chain((target) => {
        const admitted = PRODUCTS[target]?.allowed ?? [];
        return fc.record({
          kind: fc.constant(kind),
          own: fc.constant(own),
          target: fc.constant(target),
          classId:
            admitted.length === 0
              ? fc.constantFrom(...options.classes)
              : fc.oneof(
                  { weight: 3, arbitrary: fc.constantFrom(...admitted) },
                  { weight: 1, arbitrary: fc.constantFrom(...options.classes) },
                ),
          op: fc.constantFrom(...OPS),
        });
      }),
  );
}
