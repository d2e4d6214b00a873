/**
 * The SPEC §1 and §2 tables, transcribed by hand for the oracles of the policy-matrix property
 * tests (unit and end-to-end): never imported from the implementation's policy file.
 */
import type { PrincipalKind } from '../../src/domain/principal.js';

/** SPEC §2.1. */
export const PRODUCTS: Record<
  string,
  { allowed: string[]; forbidden: string[]; readOnly: boolean }
> = {
  ai_assistant: {
    allowed: ['metadata', 'artifact_manifest', 'audit_entry'],
    forbidden: ['direct_schema_change', 'system_config'],
    readOnly: false,
  },
  ai_avatar: {
    allowed: ['avatar_config', 'model_checkpoint', 'iteration_history', 'persona_config'],
    forbidden: ['access_control', 'governance_rule'],
    readOnly: false,
  },
  gurukul: {
    allowed: ['educational_content', 'user_progress', 'monetization_marker'],
    forbidden: ['user_auth', 'payment_info'],
    readOnly: false,
  },
  workflow_engine: {
    allowed: ['event_history', 'audit_log'],
    forbidden: ['write_operations', 'schema_changes'],
    readOnly: true,
  },
  core: {
    allowed: ['agent_spec', 'basket_config', 'execution_record', 'agent_output'],
    forbidden: [],
    readOnly: false,
  },
};

/** SPEC §2.2, the C/R/U/D columns (event_history's C is "system": not through the API). */
export const CLASS_OPERATIONS: Record<string, string> = {
  metadata: 'CR',
  artifact_manifest: 'CR',
  audit_entry: 'CR',
  avatar_config: 'CRU',
  model_checkpoint: 'CR',
  iteration_history: 'CR',
  persona_config: 'CRU',
  educational_content: 'CRU',
  user_progress: 'CR',
  monetization_marker: 'CR',
  event_history: 'R',
  audit_log: 'R',
  agent_spec: 'CRU',
  basket_config: 'CRUD',
  execution_record: 'CR',
  agent_output: 'CR',
};

/** SPEC §2.2 "Rejected everywhere". */
export const REJECTED = [
  'user_credentials',
  'user_auth',
  'payment_info',
  'user_personal_data_pii',
  'business_logic_code',
  'video_files',
  'unstructured_binary_data',
  'unversioned_breaking_data',
];

export const KINDS: PrincipalKind[] = [
  'owner',
  'executor',
  'auditor',
  'product',
  'ai_agent',
  'core',
];
export const PRODUCT_IDS = Object.keys(PRODUCTS);
export const CLASS_IDS = [
  ...Object.keys(CLASS_OPERATIONS),
  ...REJECTED,
  ...Object.values(PRODUCTS).flatMap((p) => p.forbidden),
  'unknown_class',
];
