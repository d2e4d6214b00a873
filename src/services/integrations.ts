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
    for (const record of await this.metadata.listIntegrations()) this.byId.set(record.id, record);
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
    for (const record of records) this.byId.set(record.id, record);
  }

  /** Loads one integration this node does not know yet (approved on another node). */
  async ensure(id: string): Promise<void> {
    if (this.byId.has(id)) return;
    const record = await this.metadata.getIntegration(id);
    if (!record) return;
    this.byId.set(record.id, record);
    this.localChanges += 1;
  }

  /** The integration as it stands now, or null. */
  lookup(id: string | null): IntegrationRecord | null {
    return id === null ? null : (this.byId.get(id) ?? null);
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
    const existing = this.byId.get(proposal.integrationId);
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
      const stored = await this.metadata.getIntegration(record.id);
      if (!stored) throw error;
      this.byId.set(stored.id, stored);
      this.localChanges += 1;
      if (stored.revokedAt === null && sameProposal(stored, proposal)) return answer;
      throw new BucketError('conflict', `integration "${stored.id}" was just proposed differently`);
    }
    this.byId.set(record.id, record);
    this.localChanges += 1;
    return answer;
  }

  list(): IntegrationRecord[] {
    return [...this.byId.values()];
  }

  get(id: string): IntegrationRecord {
    const record = this.byId.get(id);
    if (!record) throw new BucketError('integration_not_found', `no integration "${id}"`);
    return record;
  }

  /** Revokes the integration and its keys, effective for the next decision. */
  async revoke(
    id: string,
    entry?: ChangeEntry,
  ): Promise<{ integration: IntegrationRecord; revokedKeys: string[] }> {
    const result = await this.metadata.revokeIntegration(id, new Date().toISOString(), entry);
    if (!result) throw new BucketError('integration_not_found', `no integration "${id}"`);
    this.byId.set(id, result.integration);
    this.localChanges += 1;
    this.onKeysRevoked(result.revokedKeys);
    return {
      integration: result.integration,
      revokedKeys: result.revokedKeys.map((key) => key.id),
    };
  }
}
