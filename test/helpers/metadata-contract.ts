/**
 * What the MetadataStore contract suites (test/unit/storage/metadata-*-contract.test.ts) share:
 * a fresh store per test on each adapter, and the records they write.
 */
import { afterEach, beforeEach } from 'vitest';
import { type AuditDraft } from '../../src/audit/entry.js';
import { threat, type ThreatId } from '../../src/domain/decision.js';
import type { IntegrationRecord } from '../../src/domain/integration.js';
import type { KeyRecord } from '../../src/domain/principal.js';
import { writeDraft } from './audit.js';
import type { MetadataAdapter, OpenedStore } from './metadata-adapters.js';
import { version } from './versions.js';

/**
 * Opens a store on fresh storage before each test (skipping the test when the adapter is not
 * available) and hands it to `onOpen`; cleans it up after the test.
 */
export function openEachTest(adapter: MetadataAdapter, onOpen: (opened: OpenedStore) => void) {
  let opened: OpenedStore | null = null;
  beforeEach(async (context) => {
    if (!adapter.available) context.skip();
    opened = await adapter.open();
    onOpen(opened);
  });
  afterEach(async () => {
    await opened?.cleanup();
    opened = null;
  });
}

/** A product quota of 100 bytes and 10 artifacts (the limits tests fill it). */
export const SMALL_LIMITS = {
  productQuotaBytes: 100,
  productMaxArtifacts: 10,
  totalMaxArtifacts: 10,
  totalMaxBytes: 1000,
};

export function key(id: string, fields: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id,
    hash: `hash-${id}`,
    kind: 'product',
    product: 'gurukul',
    integrationId: null,
    name: id,
    createdAt: '2026-11-27T20:00:00.000Z',
    expiresAt: null,
    revokedAt: null,
    ...fields,
  };
}

export function integration(id: string): IntegrationRecord {
  return {
    id,
    type: 'webhook',
    product: 'gurukul',
    classes: [],
    dataSchema: {},
    approvedAt: '2026-11-27',
    approvedBy: 'owner',
    revokedAt: null,
  };
}

/** A decision entry of `principal` on `target`, optionally denied with threats. */
export function draft(
  principal: { id: string; product: string | null },
  target: { product: string; class: string; name: string },
  options: { allow?: boolean; threats?: ThreatId[] } = {},
): AuditDraft {
  const base = writeDraft(version({ ...target, version: 1 }));
  return {
    ...base,
    decision: {
      ...base.decision,
      allow: options.allow ?? true,
      status: (options.allow ?? true) ? 200 : 403,
      principal: { id: principal.id, kind: 'product', product: principal.product },
      threats: (options.threats ?? []).map((id) => threat(id, 'test')),
    },
  };
}

export const A = { product: 'gurukul', class: 'user_progress', name: 'a' };
export const B = { product: 'ai_avatar', class: 'avatar_config', name: 'b' };
