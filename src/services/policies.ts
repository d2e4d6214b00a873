/** The live policy: the only source of rules. Version 1 is the shipped default. */
import type { PolicyVersion } from '../domain/policy.js';
import { loadDefaultPolicy, policyHash } from '../policy/load.js';
import type { MetadataStore } from '../storage/ports.js';

export class PolicyService {
  private live: PolicyVersion | null = null;

  constructor(private readonly metadata: MetadataStore) {}

  /** Loads the latest stored version, storing the shipped default as version 1 on a new store. */
  async init(): Promise<void> {
    let latest = await this.metadata.latestPolicy();
    if (!latest) {
      const document = loadDefaultPolicy();
      latest = {
        version: 1,
        hash: policyHash(document),
        document,
        reason: 'default policy',
        createdAt: new Date().toISOString(),
        createdBy: 'system',
      };
      await this.metadata.insertPolicy(latest);
    }
    this.live = latest;
  }

  current(): PolicyVersion {
    if (!this.live) throw new Error('policy not loaded');
    return this.live;
  }
}
