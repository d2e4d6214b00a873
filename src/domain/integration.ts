/** Integrations (SPEC §4.2): how a product's system is approved to act on the Bucket. */

/** Integration types a product may propose (SPEC §4.2). */
export const INTEGRATION_TYPES = ['api_client', 'sdk', 'batch_import', 'agent', 'service'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

/** The checks of validate-integration, in the order they run (SPEC §4.2, pinned names). */
export const INTEGRATION_CHECKS = [
  'threat_assessment',
  'scale_compatibility',
  'product_safety',
  'compliance_validation',
] as const;

/** A well-formed proposal (field types checked; rules not yet). */
export interface IntegrationProposal {
  readonly integrationId: string;
  readonly integrationType: string;
  readonly productName: string;
  readonly artifactClasses: readonly string[];
  readonly dataSchema: Readonly<Record<string, unknown>>;
}

/** A persisted, approved integration; revocation is final. */
export interface IntegrationRecord {
  readonly id: string;
  readonly type: string;
  readonly product: string;
  readonly classes: readonly string[];
  readonly dataSchema: Readonly<Record<string, unknown>>;
  readonly approvedAt: string;
  readonly approvedBy: string;
  readonly revokedAt: string | null;
}

export function integrationActive(record: IntegrationRecord | null | undefined): boolean {
  return !!record && record.revokedAt === null;
}
