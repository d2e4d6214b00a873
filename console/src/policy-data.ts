/** The live policy (SPEC §2), read by every key: products, classes and limits. */
import { api } from './api';

export interface ClassRule {
  content: string;
  operations: string[];
  maxBytes: number;
}
export interface ProductRule {
  displayName: string;
  allowedClasses: string[];
  readOnly: boolean;
}
export interface PolicyDocument {
  products: Record<string, ProductRule>;
  classes: Record<string, ClassRule>;
  [field: string]: unknown;
}
export interface LivePolicy {
  version: number;
  hash: string;
  document: PolicyDocument;
}

export const livePolicy = () => api<LivePolicy>('/v1/governance/policy');
