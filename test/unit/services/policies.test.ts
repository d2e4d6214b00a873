/** The live policy service on a real (in-memory) SQLite store: versions, validation, atomicity. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../../src/domain/policy.js';
import { policyHash } from '../../../src/domain/canonical.js';
import { loadDefaultPolicy } from '../../../src/policy/load.js';
import { PolicyService } from '../../../src/services/policies.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import { headVersion } from '../../helpers/gate.js';
import { audited } from '../../helpers/audit.js';
import { refusal } from '../../helpers/service-rig.js';

function withMaxBatch(maxBatch: number): PolicyDocument {
  const document = structuredClone(loadDefaultPolicy());
  return { ...document, limits: { ...document.limits, maxBatch } };
}

describe('PolicyService', () => {
  let store: SqliteMetadataStore;
  let policies: PolicyService;

  beforeEach(async () => {
    store = new SqliteMetadataStore(':memory:');
    policies = new PolicyService(store);
    await policies.init();
  });
  afterEach(async () => store.close());

  it('stores a valid document as the next version and makes it live at once', async () => {
    const document = withMaxBatch(10);
    const { policy: updated, changed } = await policies.update({
      document,
      reason: 'smaller batches',
      by: 'key_1',
    });
    expect(changed).toBe(true);
    expect(updated).toMatchObject({
      version: 2,
      hash: policyHash(document),
      reason: 'smaller batches',
      createdBy: 'key_1',
    });
    expect(policies.current()).toBe(updated);
    expect(await store.getPolicy(2)).toEqual(updated);
    expect((await store.listPolicies()).map((p) => p.version)).toEqual([1, 2]);
    expect(await store.getPolicy(3)).toBeNull();
  });

  it('gives concurrent updates distinct, consecutive versions', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        policies.update({ document: withMaxBatch(n), reason: `r${n}`, by: 'key_1' }),
      ),
    );
    expect(results.map((r) => r.policy.version)).toEqual([2, 3, 4, 5, 6]);
    expect(policies.current().version).toBe(6);
  });

  it('makes no version of the live document, even with its keys in another order', async () => {
    const live = await policies.update({ document: withMaxBatch(10), reason: 'r', by: 'key_1' });
    const reordered = Object.fromEntries(Object.entries(withMaxBatch(10)).reverse());
    const again = await policies.update({ document: reordered, reason: 'again', by: 'key_2' });
    expect(again).toEqual({ policy: live.policy, changed: false });
    expect(policies.current()).toBe(live.policy);
    expect((await store.listPolicies()).map((p) => p.version)).toEqual([1, 2]);
    // A document that differs is a version again.
    const next = await policies.update({ document: withMaxBatch(11), reason: 'r', by: 'key_1' });
    expect(next).toMatchObject({ policy: { version: 3 }, changed: true });
  });

  it('refuses an invalid document with each JSON path, leaving the live policy alone', async () => {
    const error = await refusal(
      policies.update({ document: { products: {} }, reason: 'broken', by: 'key_1' }),
    );
    expect(error.code).toBe('invalid_policy');
    expect(error.status).toBe(400);
    const errors = (error.details?.['errors'] ?? []) as { path: string }[];
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => typeof e.path === 'string')).toBe(true);
    expect(policies.current().version).toBe(1);
    // A failed update does not block the next one.
    await policies.update({ document: withMaxBatch(7), reason: 'ok', by: 'key_1' });
    expect(policies.current().version).toBe(2);
  });

  it('refuses to remove a product or class that still has artifacts', async () => {
    const version = headVersion('gurukul', 'user_progress', 'p/1');
    expect(
      (
        await store.commitVersion(
          audited({ version, expectedCurrentVersion: 0, inline: Buffer.from('{}') }),
        )
      ).ok,
    ).toBe(true);
    expect(await store.hasArtifacts({ product: 'gurukul' })).toBe(true);
    expect(await store.hasArtifacts({ class: 'user_progress' })).toBe(true);
    expect(await store.hasArtifacts({ product: 'ai_avatar' })).toBe(false);

    const document = structuredClone(loadDefaultPolicy()) as unknown as {
      products: Record<string, unknown>;
      classes: Record<string, unknown>;
    };
    delete document.products['gurukul'];
    delete document.classes['user_progress'];
    const error = await refusal(policies.update({ document, reason: 'drop', by: 'key_1' }));
    expect(error.code).toBe('policy_in_use');
    expect(error.details?.['errors']).toEqual([
      { path: '/products/gurukul', message: 'removed while artifacts are stored' },
      { path: '/classes/user_progress', message: 'removed while artifacts are stored' },
    ]);
  });

  it('shows a version with its diff against the one before', async () => {
    await policies.update({ document: withMaxBatch(10), reason: 'r', by: 'key_1' });
    const second = await policies.version(2);
    expect(second.previousVersion).toBe(1);
    expect(second.diff).toEqual([{ op: 'replace', path: '/limits/maxBatch', from: 500, to: 10 }]);
    expect((await policies.version(1)).diff).toEqual([]);
    expect((await refusal(policies.version(9))).code).toBe('policy_version_not_found');
  });
});
