/** Audit drafts for store-level tests: the decision that allowed a version commit. */
import { randomUUID } from 'node:crypto';
import type { AuditDraft } from '../../src/audit/entry.js';
import { sealFacts } from '../../src/audit/version-facts.js';
import type { ArtifactVersion } from '../../src/domain/artifact.js';
import type { VersionCommit } from '../../src/storage/ports.js';

export function writeDraft(version: ArtifactVersion): AuditDraft {
  return {
    decision: {
      id: randomUUID(),
      allow: true,
      status: 200,
      operation: version.version === 1 ? 'CREATE' : 'UPDATE',
      principal: { id: version.createdBy, kind: 'product', product: version.product },
      target: { product: version.product, class: version.class, name: version.name },
      reasons: [],
      threats: [],
      policyVersion: 1,
    },
    requestId: randomUUID(),
    sha256: version.sha256,
    size: version.size,
    version: version.version,
  };
}

/** A commit with the audit entry of its (allowed) decision, which commits to its facts. */
export function audited(commit: Omit<VersionCommit, 'audit' | 'factsSalt'>): VersionCommit {
  const sealed = sealFacts(commit.version);
  return {
    ...commit,
    factsSalt: sealed.salt,
    audit: { ...writeDraft(commit.version), facts: sealed.facts },
  };
}
