/**
 * Storage usage and its limits (SPEC §2.3, §5 T5): per-product quota and artifact count, the
 * Bucket's artifact count and storage capacity. Pure rules, shared by the gate's limits stage and
 * the commit transaction that re-checks them.
 */
import { ruleOf, type PolicyDocument } from './policy.js';

export interface ProductUsage {
  /** Logical bytes of every stored version (tombstones add none). */
  readonly bytes: number;
  readonly artifacts: number;
}

/** Usage of one product and of the whole Bucket, read together. */
export interface UsageFacts {
  readonly product: ProductUsage;
  readonly total: ProductUsage;
}

const NO_USAGE: ProductUsage = { bytes: 0, artifacts: 0 };

/**
 * Every product's usage counters and their total, as a store holds them in memory (one row per
 * product, never a scan of versions). `commit` moves them by a commit's usage after
 * (`checkCommit`).
 */
export class UsageCounters {
  private readonly products = new Map<string, ProductUsage>();
  private total: ProductUsage = NO_USAGE;

  constructor(rows: Iterable<{ readonly product: string } & ProductUsage>) {
    let bytes = 0;
    let artifacts = 0;
    for (const row of rows) {
      this.products.set(row.product, { bytes: row.bytes, artifacts: row.artifacts });
      bytes += row.bytes;
      artifacts += row.artifacts;
    }
    this.total = { bytes, artifacts };
  }

  /** The product's usage and the total. */
  facts(product: string): UsageFacts {
    return { product: this.products.get(product) ?? NO_USAGE, total: this.total };
  }

  /** Takes the usage a commit of `product` left. */
  commit(product: string, after: UsageFacts): void {
    this.products.set(product, after.product);
    this.total = after.total;
  }

  byProduct(): Record<string, ProductUsage> {
    return Object.fromEntries(this.products);
  }
}

/** Storage limits a commit re-checks inside its transaction, so racing writes cannot overshoot. */
export interface StorageLimits {
  readonly productQuotaBytes: number;
  readonly productMaxArtifacts: number;
  readonly totalMaxArtifacts: number;
  /** The stored bytes at which writes are refused: CRITICAL, 99 % of the capacity. */
  readonly totalMaxBytes: number;
  /** The storage capacity its thresholds are ratios of (the commit's `limit.warning` events). */
  readonly capacityBytes?: number;
}

export interface StorageBreach {
  readonly rule: 'quota_bytes' | 'max_artifacts' | 'storage_capacity';
  readonly message: string;
}

/** SPEC §2.3 thresholds: artifacts WARNING 70 % / CRITICAL 90 %, storage WARNING 90 % / CRITICAL 99 %. */
export const ARTIFACT_THRESHOLDS = [
  { level: 'WARNING', ratio: 0.7 },
  { level: 'CRITICAL', ratio: 0.9 },
] as const;
export const STORAGE_THRESHOLDS = [
  { level: 'WARNING', ratio: 0.9 },
  { level: 'CRITICAL', ratio: 0.99 },
] as const;
const CAPACITY_REFUSAL = 0.99;

export function storageLimitsOf(document: PolicyDocument, product: string): StorageLimits {
  const rule = ruleOf(document.products, product);
  const capacity = document.limits.storageCapacityBytes;
  return {
    // An unknown product never reaches a commit (the gate refuses it first).
    productQuotaBytes: rule?.quotaBytes ?? Number.MAX_SAFE_INTEGER,
    productMaxArtifacts: rule?.maxArtifacts ?? Number.MAX_SAFE_INTEGER,
    totalMaxArtifacts: document.limits.maxArtifacts,
    totalMaxBytes: Math.floor(capacity * CAPACITY_REFUSAL),
    capacityBytes: capacity,
  };
}

/**
 * The first limit that adding `bytes` and `artifacts` to `usage` would exceed, or null. Negative
 * `bytes` (a completion releasing more than it stores) pass no byte limit.
 */
export function storageBreach(
  usage: UsageFacts,
  limits: StorageLimits,
  bytes: number,
  artifacts: number,
): StorageBreach | null {
  if (bytes >= 0 && usage.product.bytes + bytes > limits.productQuotaBytes) {
    return {
      rule: 'quota_bytes',
      message: `${bytes} more bytes exceed the product quota of ${limits.productQuotaBytes} bytes (${usage.product.bytes} stored)`,
    };
  }
  if (artifacts > 0 && usage.product.artifacts + artifacts > limits.productMaxArtifacts) {
    return {
      rule: 'max_artifacts',
      message: `the product holds its maximum of ${limits.productMaxArtifacts} artifacts`,
    };
  }
  if (artifacts > 0 && usage.total.artifacts + artifacts > limits.totalMaxArtifacts) {
    return {
      rule: 'max_artifacts',
      message: `the Bucket holds its maximum of ${limits.totalMaxArtifacts} artifacts`,
    };
  }
  if (bytes > 0 && usage.total.bytes + bytes > limits.totalMaxBytes) {
    return {
      rule: 'storage_capacity',
      message: `${bytes} more bytes would pass the critical storage level of ${limits.totalMaxBytes} bytes`,
    };
  }
  return null;
}

/**
 * Thresholds a commit crossed, from `before` to `after` (exact: the commit transaction reports
 * `after`, so exactly one commit crosses each level), as alert evidence.
 */
export function crossedLevels(
  before: UsageFacts,
  after: UsageFacts,
  limits: StorageLimits,
  capacityBytes: number,
  product: string,
): CrossedLevel[] {
  const alerts: CrossedLevel[] = [];
  const check = (
    scope: CrossedLevel['scope'],
    what: string,
    levels: readonly { level: string; ratio: number }[],
    from: number,
    to: number,
    limit: number,
  ) => {
    if (limit <= 0) return;
    for (const { level, ratio } of levels) {
      const mark = limit * ratio;
      if (from < mark && to >= mark) {
        alerts.push({
          scope,
          message: `${level}: ${what} at ${to} of ${limit} (${Math.round(ratio * 100)} % crossed)`,
        });
      }
    }
  };
  check(
    'product',
    `${product} artifacts`,
    ARTIFACT_THRESHOLDS,
    before.product.artifacts,
    after.product.artifacts,
    limits.productMaxArtifacts,
  );
  check(
    'total',
    'total artifacts',
    ARTIFACT_THRESHOLDS,
    before.total.artifacts,
    after.total.artifacts,
    limits.totalMaxArtifacts,
  );
  check(
    'product',
    `${product} storage bytes`,
    STORAGE_THRESHOLDS,
    before.product.bytes,
    after.product.bytes,
    limits.productQuotaBytes,
  );
  check(
    'total',
    'total storage bytes',
    STORAGE_THRESHOLDS,
    before.total.bytes,
    after.total.bytes,
    capacityBytes,
  );
  return alerts;
}

/** A level crossed, as a message: the product's own counters, or the whole installation's. */
export interface CrossedLevel {
  readonly scope: 'product' | 'total';
  readonly message: string;
}

export function crossedThresholds(
  before: UsageFacts,
  after: UsageFacts,
  limits: StorageLimits,
  capacityBytes: number,
  product: string,
): string[] {
  return crossedLevels(before, after, limits, capacityBytes, product).map((level) => level.message);
}
