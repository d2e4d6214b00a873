/**
 * validate-integration (SPEC §4.2): the four checks of an integration proposal against the live
 * policy — threat assessment, scale compatibility, product safety, compliance — as one pure
 * function that reports every reason and every threat.
 */
import { threat, type Reason, type Threat } from '../domain/decision.js';
import { INTEGRATION_TYPES, type IntegrationProposal } from '../domain/integration.js';
import { ruleOf, type PolicyDocument } from '../domain/policy.js';
import { schemaThreats } from './proposal-scan.js';

export interface ProposalVerdict {
  readonly approved: boolean;
  readonly reasons: Reason[];
  readonly threats: Threat[];
}

const CONTENT_POLICY_FIELDS = ['nsfw_policy', 'content_filter'];
const RETENTION_FIELDS = ['retention_policy', 'deletion_strategy'];
type ScaleLimit = 'maxArtifactBytes' | 'writesPerSecond' | 'readsPerSecond' | 'concurrentWrites';
/** Numbers a data schema may declare, and the policy limit each must fit in. */
const SCALE_FIELDS: readonly [string[], ScaleLimit][] = [
  [['maxArtifactBytes', 'max_artifact_bytes', 'maxSize', 'max_size'], 'maxArtifactBytes'],
  [['writesPerSecond', 'writes_per_second'], 'writesPerSecond'],
  [['readsPerSecond', 'reads_per_second'], 'readsPerSecond'],
  [['concurrentWrites', 'concurrent_writes'], 'concurrentWrites'],
];

function threatAssessment(proposal: IntegrationProposal, reasons: Reason[], threats: Threat[]) {
  const type = proposal.integrationType;
  if (type === 'direct_database') {
    reasons.push({
      rule: 'integration_type',
      message: 'direct database access bypasses the gate and is never allowed',
    });
    threats.push(threat('T1', 'integration type "direct_database"'));
  } else if (!(INTEGRATION_TYPES as readonly string[]).includes(type)) {
    reasons.push({
      rule: 'integration_type',
      message: `integration type "${type}" is not one of ${INTEGRATION_TYPES.join(', ')}`,
    });
    threats.push(
      threat('T4', `${type.startsWith('_') ? 'reserved' : 'unknown'} integration type "${type}"`),
    );
  }
  if (proposal.productName.includes(',')) {
    reasons.push({ rule: 'single_product', message: 'an integration serves exactly one product' });
    threats.push(threat('T4', `several product identities in "${proposal.productName}"`));
  }
  const found = schemaThreats(proposal.dataSchema);
  for (const item of found) {
    reasons.push({ rule: 'data_schema', message: item.evidence });
  }
  threats.push(...found);
}

function scaleCompatibility(
  proposal: IntegrationProposal,
  document: PolicyDocument,
  reasons: Reason[],
) {
  if (proposal.artifactClasses.length === 0) {
    reasons.push({ rule: 'artifact_classes', message: 'declare at least one artifact class' });
  }
  for (const [fields, limit] of SCALE_FIELDS) {
    for (const field of fields) {
      const value = proposal.dataSchema[field];
      if (typeof value === 'number' && value > document.limits[limit]) {
        reasons.push({
          rule: 'scale_limit',
          message: `dataSchema.${field} = ${value} exceeds the enforced ${limit} of ${document.limits[limit]}`,
        });
      }
    }
  }
}

function productSafety(proposal: IntegrationProposal, document: PolicyDocument, reasons: Reason[]) {
  const productId = proposal.productName;
  const product = ruleOf(document.products, productId);
  if (!product) {
    reasons.push({ rule: 'unknown_product', message: `no product "${productId}" in the policy` });
  }
  for (const classId of proposal.artifactClasses) {
    if (document.rejectedClasses.includes(classId)) {
      reasons.push({
        rule: 'class_rejected',
        message: `class "${classId}" is rejected everywhere`,
      });
    } else if (product?.forbiddenClasses.includes(classId)) {
      reasons.push({
        rule: 'class_forbidden',
        message: `class "${classId}" is forbidden for product "${productId}"`,
      });
    } else if (!ruleOf(document.classes, classId)) {
      reasons.push({ rule: 'unknown_class', message: `no class "${classId}" in the policy` });
    } else if (product && !product.allowedClasses.includes(classId)) {
      reasons.push({
        rule: 'class_not_allowed',
        message: `class "${classId}" is not allowed for product "${productId}"`,
      });
    }
  }
}

function declaresText(schema: Readonly<Record<string, unknown>>, fields: string[]): boolean {
  return fields.some((field) => {
    const value = schema[field];
    return typeof value === 'string' && value.trim() !== '';
  });
}

function compliance(proposal: IntegrationProposal, reasons: Reason[], threats: Threat[]) {
  const missing: string[] = [];
  if (!declaresText(proposal.dataSchema, CONTENT_POLICY_FIELDS)) {
    missing.push('a content policy');
    reasons.push({
      rule: 'content_policy',
      message: 'dataSchema must declare nsfw_policy or content_filter (a non-empty string)',
    });
  }
  if (!declaresText(proposal.dataSchema, RETENTION_FIELDS)) {
    missing.push('a retention or deletion strategy');
    reasons.push({
      rule: 'retention_policy',
      message: 'dataSchema must declare retention_policy or deletion_strategy (a non-empty string)',
    });
  }
  if (missing.length > 0) {
    threats.push(threat('T6', `integration without ${missing.join(' or ')}`));
  }
}

/** Runs every check; the proposal is approved only when none found a reason. */
export function evaluateProposal(
  proposal: IntegrationProposal,
  document: PolicyDocument,
): ProposalVerdict {
  const reasons: Reason[] = [];
  const threats: Threat[] = [];
  threatAssessment(proposal, reasons, threats);
  scaleCompatibility(proposal, document, reasons);
  productSafety(proposal, document, reasons);
  compliance(proposal, reasons, threats);
  return { approved: reasons.length === 0 && threats.length === 0, reasons, threats };
}
