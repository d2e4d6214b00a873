/**
 * Integrations (SPEC §4.2): proposals evaluated against the live policy, approved ones persisted,
 * revocation that takes the integration's keys with it. All integrations are held in memory so
 * that the gate reads an integration's state at decision time without a lookup.
 */
import {
  INTEGRATION_CHECKS,
  type IntegrationProposal,
  type IntegrationRecord,
} from '../domain/integration.js';
import { BucketError } from '../domain/errors.js';
import type { KeyRecord } from '../domain/principal.js';
import { evaluateProposal, type ProposalVerdict } from '../gate/proposal.js';
import type { ChangeEntry, MetadataStore } from '../storage/ports.js';
import type { PolicyService } from './policies.js';

export interface ProposalAnswer extends ProposalVerdict {
  readonly integrationId: string;
  readonly checksPerformed: readonly string[];
}

function sameProposal(record: IntegrationRecord, proposal: IntegrationProposal): boolean {
  return (
    record.type === proposal.integrationType &&
    record.product === proposal.productName &&
    JSON.stringify([...record.classes].sort()) ===
      JSON.stringify([...proposal.artifactClasses].sort())
  );
}

/**
 * An integration's key in memory: ids are scoped by product (docs/decisions/0026), so that another
 * product's id is, to a product key, an unknown one. Product names never contain NUL.
 */
function keyOf(product: string, id: string): string {
  return `${product}\u0000${id}`;
}

export class IntegrationService {
  private readonly byId = new Map<string, IntegrationRecord>();
  /** Changes this node made to `byId` since it started (see reload). */
  private localChanges = 0;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly policies: PolicyService,
    /** Drops revoked keys from the authentication cache. */
    private readonly onKeysRevoked: (keys: KeyRecord[]) => void = () => {},
  ) {}

  async init(): Promise<void> {
    for (const record of await this.metadata.listIntegrations()) this.remember(record);
  }

  /**
   * Reads every integration again: another node may have approved or revoked one. A read that a
   * change of this node overtook is dropped (it would undo that change until the next poll, which
   * reads again: the change moved the stamp).
   */
  async reload(): Promise<void> {
    const seen = this.localChanges;
    const records = await this.metadata.listIntegrations();
    if (seen !== this.localChanges) return;
    this.byId.clear();
    for (const record of records) this.remember(record);
  }

  private remember(record: IntegrationRecord): void {
    this.byId.set(keyOf(record.product, record.id), record);
  }

  /** Loads one integration this node does not know yet (approved on another node). */
  async ensure(product: string, id: string): Promise<void> {
    if (this.byId.has(keyOf(product, id))) return;
    const record = await this.metadata.getIntegration(product, id);
    if (!record) return;
    this.remember(record);
    this.localChanges += 1;
  }

  /** The product's integration of that id as it stands now, or null (another product's too). */
  lookup(product: string | null, id: string | null): IntegrationRecord | null {
    return product === null || id === null ? null : (this.byId.get(keyOf(product, id)) ?? null);
  }

  activeCount(): number {
    let count = 0;
    for (const record of this.byId.values()) if (record.revokedAt === null) count++;
    return count;
  }

  /**
   * Evaluates a proposal; an approved one is persisted. Re-proposing an active integration with
   * the same type, product and classes approves it again without change; any other reuse of an
   * id (a different proposal, or a revoked integration) is a conflict.
   */
  async propose(
    proposal: IntegrationProposal,
    approvedBy: string,
    entry?: ChangeEntry,
  ): Promise<ProposalAnswer> {
    const verdict = evaluateProposal(proposal, this.policies.current().document);
    const answer = {
      ...verdict,
      integrationId: proposal.integrationId,
      checksPerformed: INTEGRATION_CHECKS,
    };
    if (!verdict.approved) return answer;
    const existing = this.lookup(proposal.productName, proposal.integrationId);
    if (existing) {
      if (existing.revokedAt === null && sameProposal(existing, proposal)) return answer;
      throw new BucketError(
        'conflict',
        existing.revokedAt === null
          ? `integration "${existing.id}" exists with another type, product or classes`
          : `integration "${existing.id}" was revoked; propose it under a new id`,
      );
    }
    const record: IntegrationRecord = {
      id: proposal.integrationId,
      type: proposal.integrationType,
      product: proposal.productName,
      classes: [...proposal.artifactClasses],
      dataSchema: proposal.dataSchema,
      approvedAt: new Date().toISOString(),
      approvedBy,
      revokedAt: null,
    };
    try {
      await this.metadata.insertIntegration(record, entry);
    } catch (error) {
      // A concurrent proposal under the same id was stored first: judge against it.
      const stored = await this.metadata.getIntegration(record.product, record.id);
      if (!stored) throw error;
      this.remember(stored);
      this.localChanges += 1;
      if (stored.revokedAt === null && sameProposal(stored, proposal)) return answer;
      throw new BucketError('conflict', `integration "${stored.id}" was just proposed differently`);
    }
    this.remember(record);
    this.localChanges += 1;
    return answer;
  }

  list(): IntegrationRecord[] {
    return [...this.byId.values()];
  }

  /** The one integration of that id in any product, or null (none, or several products'). */
  only(id: string): IntegrationRecord | null {
    const found = this.list().filter((record) => record.id === id);
    return found.length === 1 ? (found[0] ?? null) : null;
  }

  /**
   * The integration of that id for the owner's routes: of `product` when given, else the only one
   * of that id (409 when products share it: the caller names one).
   */
  get(id: string, product?: string): IntegrationRecord {
    const found =
      product === undefined
        ? this.list().filter((record) => record.id === id)
        : [this.lookup(product, id)].filter((record) => record !== null);
    const [record] = found;
    if (!record) throw new BucketError('integration_not_found', `no integration "${id}"`);
    if (found.length > 1) {
      throw new BucketError(
        'conflict',
        `integration id "${id}" exists in products ${found.map((r) => r.product).join(', ')}: ` +
          'name one with ?product=',
      );
    }
    return record;
  }

  /** `get`, after reading every integration again if this node does not know the id yet. */
  private async resolve(id: string, product: string | undefined): Promise<IntegrationRecord> {
    try {
      return this.get(id, product);
    } catch (error) {
      if (!(error instanceof BucketError && error.code === 'integration_not_found')) throw error;
      await this.reload();
      return this.get(id, product);
    }
  }

  /** Revokes the integration and its keys, effective for the next decision. */
  async revoke(
    id: string,
    product: string | undefined,
    entry?: ChangeEntry,
  ): Promise<{ integration: IntegrationRecord; revokedKeys: string[] }> {
    const { product: owner } = await this.resolve(id, product);
    const at = new Date().toISOString();
    const result = await this.metadata.revokeIntegration(owner, id, at, entry);
    if (!result) throw new BucketError('integration_not_found', `no integration "${id}"`);
    this.remember(result.integration);
    this.localChanges += 1;
    this.onKeysRevoked(result.revokedKeys);
    return {
      integration: result.integration,
      revokedKeys: result.revokedKeys.map((key) => key.id),
    };
  }
}
