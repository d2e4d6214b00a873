/**
 * The MetadataStore contract: the same expectations on every adapter (SQLite, PostgreSQL), so
 * that services see the same results and errors whichever one a configuration names.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CompactRange, decompose, foldSubtrees } from '../../../src/audit/compact.js';
import { parseEntry, type AuditDraft } from '../../../src/audit/entry.js';
import { leafHash } from '../../../src/audit/rfc6962.js';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import { threat, type ThreatId } from '../../../src/domain/decision.js';
import type { IntegrationRecord } from '../../../src/domain/integration.js';
import type { KeyRecord } from '../../../src/domain/principal.js';
import { defaultPolicyVersion } from '../../../src/policy/load.js';
import { SchemaTooNewError } from '../../../src/storage/errors.js';
import type { ChangeEntry, MetadataStore } from '../../../src/storage/ports.js';
import { audited, writeDraft } from '../../helpers/audit.js';
import { metadataAdapters, type OpenedStore } from '../../helpers/metadata-adapters.js';
import { commitNext, version } from '../../helpers/versions.js';

/** A product quota of 100 bytes and 10 artifacts (the limits tests fill it). */
const SMALL_LIMITS = {
  productQuotaBytes: 100,
  productMaxArtifacts: 10,
  totalMaxArtifacts: 10,
  totalMaxBytes: 1000,
};

const adapters = await metadataAdapters();

function key(id: string, fields: Partial<KeyRecord> = {}): KeyRecord {
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

function integration(id: string): IntegrationRecord {
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
function draft(
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

const A = { product: 'gurukul', class: 'user_progress', name: 'a' };
const B = { product: 'ai_avatar', class: 'avatar_config', name: 'b' };

describe.each(adapters)('MetadataStore contract: $name', (adapter) => {
  let opened: OpenedStore;
  let store: MetadataStore;

  beforeEach(async (context) => {
    if (!adapter.available) context.skip();
    opened = await adapter.open();
    store = opened.store;
  });

  afterEach(async () => {
    if (adapter.available) await opened.cleanup();
  });

  const commit = (v: ArtifactVersion, inline?: Buffer | null) => commitNext(store, v, inline);

  describe('governance records', () => {
    it('round-trips keys, revokes once and replaces a hash', async () => {
      await store.insertKey(key('k2', { createdAt: '2026-11-27T21:00:00.000Z' }));
      await store.insertKey(key('k1', { integrationId: 'int_1', expiresAt: '2027-01-01' }));
      expect(await store.getKey('k1')).toEqual(
        key('k1', { integrationId: 'int_1', expiresAt: '2027-01-01' }),
      );
      expect(await store.findKeyByHash('hash-k2')).toEqual(
        key('k2', { createdAt: '2026-11-27T21:00:00.000Z' }),
      );
      expect(await store.findKeyByHash('nope')).toBeNull();
      expect((await store.listKeys()).map((k) => k.id)).toEqual(['k1', 'k2']);
      expect((await store.revokeKey('k1', '2026-11-28T00:00:00.000Z'))?.revokedAt).toBe(
        '2026-11-28T00:00:00.000Z',
      );
      expect((await store.revokeKey('k1', '2026-11-29T00:00:00.000Z'))?.revokedAt).toBe(
        '2026-11-28T00:00:00.000Z',
      );
      expect(await store.revokeKey('missing', '2026-11-28T00:00:00.000Z')).toBeNull();
      await store.setKeyHash('k2', 'rotated');
      expect((await store.findKeyByHash('rotated'))?.id).toBe('k2');
      await expect(store.insertKey(key('k3', { hash: 'rotated' }))).rejects.toThrow();
    });

    it('round-trips policy versions, newest last', async () => {
      expect(await store.latestPolicy()).toBeNull();
      const first = defaultPolicyVersion(undefined, '2026-11-27T20:00:00.000Z');
      const second = { ...first, version: 2, reason: 'tighten' };
      await store.insertPolicy(first);
      await store.insertPolicy(second);
      expect(await store.latestPolicy()).toEqual(second);
      expect(await store.getPolicy(1)).toEqual(first);
      expect(await store.getPolicy(3)).toBeNull();
      expect((await store.listPolicies()).map((p) => p.version)).toEqual([1, 2]);
      await expect(store.insertPolicy(second)).rejects.toThrow();
    });

    it('revokes an integration with the keys bound to it, once', async () => {
      const integration = {
        id: 'int_1',
        type: 'webhook',
        product: 'gurukul',
        classes: ['user_progress'],
        dataSchema: { type: 'object', properties: { n: { type: 'number' } } },
        approvedAt: '2026-11-27T20:00:00.000Z',
        approvedBy: 'owner',
        revokedAt: null,
      };
      await store.insertIntegration(integration);
      await store.insertKey(key('k1', { integrationId: 'int_1' }));
      await store.insertKey(key('k2', { integrationId: 'int_1', revokedAt: '2026-11-27' }));
      await store.insertKey(key('k3'));
      expect(await store.getIntegration('gurukul', 'int_1')).toEqual(integration);
      expect(await store.listIntegrations()).toEqual([integration]);
      const revoked = await store.revokeIntegration('gurukul', 'int_1', '2026-11-28T00:00:00.000Z');
      expect(revoked?.integration.revokedAt).toBe('2026-11-28T00:00:00.000Z');
      expect(revoked?.revokedKeys.map((k) => [k.id, k.revokedAt])).toEqual([
        ['k1', '2026-11-28T00:00:00.000Z'],
      ]);
      expect((await store.getKey('k3'))?.revokedAt).toBeNull();
      const again = await store.revokeIntegration('gurukul', 'int_1', '2026-11-29T00:00:00.000Z');
      expect(again?.integration.revokedAt).toBe('2026-11-28T00:00:00.000Z');
      expect(again?.revokedKeys).toEqual([]);
      expect(await store.revokeIntegration('gurukul', 'missing', '2026-11-28')).toBeNull();
    });

    it('records threats and counts critical requests, newest first', async () => {
      const record = (at: string, requestId: string, threatId: ThreatId, counted = true) => ({
        at,
        requestId,
        principalId: 'k1',
        principalKind: 'product' as const,
        product: 'gurukul',
        threatId,
        severity: threat(threatId, '').severity,
        evidence: `evidence ${requestId}`,
        counted,
      });
      await store.insertThreatRecords([
        record('2026-11-27T20:00:00.000Z', 'r1', 'T1'),
        record('2026-11-27T20:00:00.000Z', 'r1', 'T2'),
        record('2026-11-27T20:01:00.000Z', 'r2', 'T1', false),
        record('2026-11-27T20:02:00.000Z', 'r3', 'T4'),
        record('2026-11-27T20:03:00.000Z', 'r4', 'T3'),
      ]);
      await store.insertThreatRecords([]);
      expect(await store.countCriticalRequests('k1', '2026-11-27T19:00:00.000Z')).toBe(2);
      expect(await store.countCriticalRequests('k1', '2026-11-27T20:01:00.000Z')).toBe(1);
      expect(await store.countCriticalRequests('k2', '2026-11-27T19:00:00.000Z')).toBe(0);
      expect(await store.threatCounts(null)).toEqual({ T1: 2, T2: 1, T3: 1, T4: 1 });
      expect(await store.threatCounts('2026-11-27T20:01:00.000Z')).toEqual({
        T1: 1,
        T3: 1,
        T4: 1,
      });
      const recent = await store.recentThreats(2);
      expect(recent).toEqual([
        record('2026-11-27T20:03:00.000Z', 'r4', 'T3'),
        record('2026-11-27T20:02:00.000Z', 'r3', 'T4'),
      ]);
    });

    it('suspends a key once and reinstates it', async () => {
      const suspension = { keyId: 'k1', suspendedAt: '2026-11-27T20:00:00.000Z', reason: 'T1' };
      await store.suspendKey(suspension);
      await store.suspendKey({ ...suspension, reason: 'again' });
      expect(await store.listSuspensions()).toEqual([suspension]);
      expect(await store.reinstateKey('k1')).toBe(true);
      expect(await store.reinstateKey('k1')).toBe(false);
      expect(await store.listSuspensions()).toEqual([]);
    });

    it('commits a governance change with its allow entry, or neither (SPEC §6)', async () => {
      const owner = { id: 'owner', product: null };
      const entryOf = (name: string): ChangeEntry => ({
        draft: draft(owner, { product: 'core', class: 'keys', name }),
        receipt: null,
      });
      // A change and its entry commit together; the receipt names the entry.
      const created = entryOf('k1');
      await store.insertKey(key('k1'), created);
      expect(created.receipt).toMatchObject({ leafIndex: 0 });
      expect(await store.getKey('k1')).not.toBeNull();
      // A change that fails leaves neither: no key, no entry, and the next entry takes index 1.
      const duplicate = entryOf('k1-again');
      await expect(store.insertKey(key('k1'), duplicate)).rejects.toThrow();
      expect(duplicate.receipt).toBeNull();
      expect(await store.auditSize()).toBe(1);
      // A change that finds nothing to change (an unknown id) appends nothing either.
      const unknown = entryOf('missing');
      expect(await store.revokeKey('missing', '2026-11-28', unknown)).toBeNull();
      expect(await store.reinstateKey('k1', unknown)).toBe(false);
      expect(
        await store.revokeIntegration('gurukul', 'int_missing', '2026-11-28', unknown),
      ).toBeNull();
      expect(unknown.receipt).toBeNull();
      expect(await store.auditSize()).toBe(1);
      // Every kind of change takes its entry, in the order the changes commit.
      const entries = [entryOf('revoke'), entryOf('policy'), entryOf('int'), entryOf('revoke-int')];
      await store.revokeKey('k1', '2026-11-28', entries[0]);
      await store.insertPolicy(defaultPolicyVersion(), entries[1]);
      await store.insertIntegration(integration('int_1'), entries[2]);
      expect(
        (await store.revokeIntegration('gurukul', 'int_1', '2026-11-28', entries[3]))?.integration,
      ).toMatchObject({ id: 'int_1', revokedAt: '2026-11-28' });
      expect(entries.map((entry) => entry.receipt?.leafIndex)).toEqual([1, 2, 3, 4]);
      await store.suspendKey({ keyId: 'k1', suspendedAt: '2026-11-28', reason: 'T1' });
      const lifted = entryOf('reinstate');
      expect(await store.reinstateKey('k1', lifted)).toBe(true);
      expect(lifted.receipt).toMatchObject({ leafIndex: 5 });
      const names = [];
      for await (const entry of store.auditRange(0, 6)) {
        names.push(JSON.parse(entry.canonical.toString()).target.name);
      }
      expect(names).toEqual(['k1', 'revoke', 'policy', 'int', 'revoke-int', 'reinstate']);
      // Artifact commits and appends go on from there.
      expect((await store.appendAudit([draft(owner, A)]))[0]?.leafIndex).toBe(6);
    });

    it('moves the change stamp with every key, policy, integration and suspension change', async () => {
      const stamps = [await store.changeStamp()];
      const changed = async () => {
        const stamp = await store.changeStamp();
        expect(stamps).not.toContain(stamp);
        stamps.push(stamp);
      };
      await store.insertKey(key('k1', { integrationId: 'int_1' }));
      await changed();
      await store.setKeyHash('k1', 'other');
      await changed();
      await store.revokeKey('k1', '2026-11-28');
      await changed();
      await store.insertPolicy(defaultPolicyVersion());
      await changed();
      await store.insertIntegration(integration('int_1'));
      await changed();
      await store.revokeIntegration('gurukul', 'int_1', '2026-11-28');
      await changed();
      await store.suspendKey({ keyId: 'k1', suspendedAt: '2026-11-28', reason: 'T1' });
      await changed();
      await store.reinstateKey('k1');
      await changed();
      // Reads and artifact writes leave it alone.
      const before = await store.changeStamp();
      await store.listKeys();
      await commit(version({ name: 'a', version: 1 }));
      expect(await store.changeStamp()).toBe(before);
    });

    it('keeps a setting set once', async () => {
      expect(await store.setSettingOnce('installation_id', 'first')).toBe('first');
      expect(await store.setSettingOnce('installation_id', 'second')).toBe('first');
      expect(await store.getSetting('installation_id')).toBe('first');
      expect(await store.getSetting('missing')).toBeNull();
    });
  });

  describe('commitVersion', () => {
    it('commits a first version with its inline bytes, usage and receipt', async () => {
      const v1 = version({ name: 'a', version: 1, size: 7 });
      const result = await commit(v1, Buffer.from('{"a":1}'));
      expect(result).toEqual({
        ok: true,
        usage: { product: { bytes: 7, artifacts: 1 }, total: { bytes: 7, artifacts: 1 } },
        receipt: { leafIndex: 0, leafHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      });
      expect(await store.getHead(A)).toEqual(v1);
      expect(await store.getVersion(A, 1)).toEqual(v1);
      expect(await store.getVersion(A, 2)).toBeNull();
      expect((await store.readInline(A, 1))?.toString()).toBe('{"a":1}');
      expect(await store.getForRead(A)).toEqual({ version: v1, inline: Buffer.from('{"a":1}') });
      expect(await store.getForRead(A, 1)).toEqual({ version: v1, inline: Buffer.from('{"a":1}') });
      expect(await store.getForRead({ ...A, name: 'none' })).toBeNull();
      expect(await store.hasArtifacts({ product: 'gurukul' })).toBe(true);
      expect(await store.hasArtifacts({ class: 'user_progress' })).toBe(true);
      expect(await store.hasArtifacts({ product: 'core' })).toBe(false);
      const entry = await store.auditEntry(0);
      expect(entry?.leafHash).toEqual(leafHash(entry?.canonical ?? Buffer.alloc(0)));
      expect(JSON.parse(entry?.canonical.toString() ?? '{}')).toMatchObject({
        index: 0,
        version: 1,
        sha256: v1.sha256,
      });
    });

    it('refuses a stale head with version_conflict and stores nothing', async () => {
      await commit(version({ name: 'a', version: 1 }));
      const stale = await store.commitVersion(
        audited({
          version: version({ name: 'a', version: 1, sha256: 'f'.repeat(64) }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{}'),
        }),
      );
      expect(stale).toEqual({ ok: false, reason: 'version_conflict', current: 1 });
      expect(await store.auditSize()).toBe(1);
      expect(await store.usage('gurukul')).toEqual({ bytes: 10, artifacts: 1 });
      await commit(version({ name: 'a', version: 2, size: 5 }));
      expect((await store.listVersions(A)).map((v) => v.version)).toEqual([1, 2]);
      expect(await store.usage('gurukul')).toEqual({ bytes: 15, artifacts: 1 });
    });

    it('lets exactly one of two writers decided against the same head commit', async () => {
      await commit(version({ name: 'a', version: 1 }));
      const attempt = (sha: string) =>
        store.commitVersion(
          audited({
            version: version({ name: 'a', version: 2, sha256: sha }),
            expectedCurrentVersion: 1,
            inline: Buffer.from('{}'),
          }),
        );
      const results = await Promise.all([attempt('1'.repeat(64)), attempt('2'.repeat(64))]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([
        { ok: false, reason: 'version_conflict', current: 2 },
      ]);
      expect(await store.auditSize()).toBe(2);
    });

    it('checks each write of one batch against what the writes before it left', async () => {
      const submit = (n: number, expected: number, fields: { size?: number; sha?: string } = {}) =>
        store.commitVersion({
          ...audited({
            version: version({
              name: 'batched',
              version: n,
              size: fields.size ?? 10,
              ...(fields.sha ? { sha256: fields.sha } : {}),
            }),
            expectedCurrentVersion: expected,
            inline: Buffer.from('{}'),
          }),
          limits: SMALL_LIMITS,
        });
      // Submitted in one turn: one group commit (one batch) on every adapter.
      const results = await Promise.all([
        submit(1, 0, { size: 30 }),
        submit(2, 1, { size: 30 }),
        submit(2, 1, { sha: 'e'.repeat(64) }),
        submit(3, 2, { size: 50 }),
        submit(3, 2, { size: 30 }),
      ]);
      expect(results).toMatchObject([
        { ok: true, usage: { product: { bytes: 30, artifacts: 1 } } },
        { ok: true, usage: { product: { bytes: 60, artifacts: 1 } } },
        { ok: false, reason: 'version_conflict', current: 2 },
        { ok: false, reason: 'insufficient_storage' },
        { ok: true, usage: { product: { bytes: 90, artifacts: 1 } } },
      ]);
      const key = { product: 'gurukul', class: 'user_progress', name: 'batched' };
      expect((await store.listVersions(key)).map((v) => [v.version, v.size])).toEqual([
        [1, 30],
        [2, 30],
        [3, 30],
      ]);
      expect((await store.getHead(key))?.version).toBe(3);
      expect(await store.usage('gurukul')).toEqual({ bytes: 90, artifacts: 1 });
      // Only the three that committed have entries, in the order they were submitted.
      const entries = [];
      for await (const entry of store.auditRange(0, await store.auditSize())) {
        entries.push(parseEntry(entry.canonical).version);
      }
      expect(entries).toEqual([1, 2, 3]);
    });

    it('tells a write decided against a moved head of the conflict, even past a limit', async () => {
      await commit(version({ name: 'a', version: 1, size: 60 }));
      await commit(version({ name: 'a', version: 2, size: 10 }));
      // Decided against version 1 (stale), and 41 bytes more would pass the quota too.
      const stale = await store.commitVersion({
        ...audited({
          version: version({ name: 'a', version: 2, size: 41, sha256: 'e'.repeat(64) }),
          expectedCurrentVersion: 1,
          inline: Buffer.from('{}'),
        }),
        limits: SMALL_LIMITS,
      });
      expect(stale).toEqual({ ok: false, reason: 'version_conflict', current: 2 });
      // An update of a name that does not exist is a conflict with "no version" too.
      const missing = await store.commitVersion(
        audited({
          version: version({ name: 'nowhere', version: 4 }),
          expectedCurrentVersion: 3,
          inline: Buffer.from('{}'),
        }),
      );
      expect(missing).toEqual({ ok: false, reason: 'version_conflict', current: 0 });
      expect(await store.getHead({ ...A, name: 'nowhere' })).toBeNull();
      expect((await store.listVersions(A)).map((v) => v.version)).toEqual([1, 2]);
      expect(await store.usage('gurukul')).toEqual({ bytes: 70, artifacts: 1 });
      expect(await store.auditSize()).toBe(2);
    });

    it('refuses a commit past a limit with insufficient_storage, storing nothing', async () => {
      await commit(version({ name: 'a', version: 1, size: 60 }));
      const over = await store.commitVersion({
        ...audited({
          version: version({ name: 'b', version: 1, size: 41 }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{}'),
        }),
        limits: SMALL_LIMITS,
      });
      expect(over).toMatchObject({
        ok: false,
        reason: 'insufficient_storage',
        rule: 'quota_bytes',
      });
      expect(await store.getHead({ ...A, name: 'b' })).toBeNull();
      expect(await store.usageFacts('gurukul')).toEqual({
        product: { bytes: 60, artifacts: 1 },
        total: { bytes: 60, artifacts: 1 },
      });
      expect(await store.auditSize()).toBe(1);
      const fits = await store.commitVersion({
        ...audited({
          version: version({ name: 'b', version: 1, size: 40 }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{}'),
        }),
        limits: SMALL_LIMITS,
      });
      expect(fits).toMatchObject({ ok: true, usage: { product: { bytes: 100, artifacts: 2 } } });
      const tooMany = await store.commitVersion({
        ...audited({
          version: version({ name: 'c', version: 1, size: 0 }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{}'),
        }),
        limits: { ...SMALL_LIMITS, productMaxArtifacts: 2 },
      });
      expect(tooMany).toMatchObject({ ok: false, rule: 'max_artifacts' });
    });

    it('counts the bytes of every version and each artifact once, per product', async () => {
      await commit(version({ name: 'a', version: 1, size: 100 }));
      await commit(version({ name: 'a', version: 2, size: 50 }));
      await commit(version({ name: 'b', version: 1, size: 7 }));
      await commit(version({ ...B, version: 1, size: 1 }));
      expect(await store.usage('gurukul')).toEqual({ bytes: 157, artifacts: 2 });
      expect(await store.usage('core')).toEqual({ bytes: 0, artifacts: 0 });
      expect(await store.usageFacts('ai_avatar')).toEqual({
        product: { bytes: 1, artifacts: 1 },
        total: { bytes: 158, artifacts: 3 },
      });
      expect(await store.usageByProduct()).toEqual({
        gurukul: { bytes: 157, artifacts: 2 },
        ai_avatar: { bytes: 1, artifacts: 1 },
      });
    });

    it('keeps committed versions across a reopen', async () => {
      await commit(version({ name: 'kept', version: 1 }));
      const reopened = await opened.reopen();
      expect((await reopened.getHead({ ...A, name: 'kept' }))?.version).toBe(1);
      expect(await reopened.auditSize()).toBe(1);
    });

    it('lists every version with its inline bytes (allVersions)', async () => {
      await commit(version({ name: 'a', version: 1 }), Buffer.from('one'));
      await commit(version({ name: 'a', version: 2, storage: 'blob' }));
      await commit(version({ ...B, version: 1 }), Buffer.from('b'));
      const all = [];
      for await (const item of store.allVersions()) all.push(item);
      expect(all.map((i) => [i.version.product, i.version.name, i.version.version])).toEqual([
        ['ai_avatar', 'b', 1],
        ['gurukul', 'a', 1],
        ['gurukul', 'a', 2],
      ]);
      expect(all.map((i) => i.inline?.toString() ?? null)).toEqual(['b', 'one', null]);
    });
  });

  describe('listArtifacts', () => {
    const names = (items: ArtifactVersion[]) => items.map((v) => `${v.class}:${v.name}`);

    beforeEach(async () => {
      if (!adapter.available) return;
      for (const [classId, name] of [
        ['user_progress', 'b'],
        ['educational_content', 'z'],
        ['user_progress', 'a/2'],
        ['user_progress', 'a/10'],
        ['educational_content', 'a'],
        ['user_progress', 'a_x'],
        ['user_progress', 'a%y'],
        ['user_progress', 'B'],
      ] as const) {
        await commit(version({ class: classId, name, version: 1 }));
      }
      await commit(version({ ...B, name: 'a', version: 1 }));
    });

    it("lists one product's live heads in (class, name) byte order", async () => {
      expect(names(await store.listArtifacts({ product: 'gurukul', limit: 100 }))).toEqual([
        'educational_content:a',
        'educational_content:z',
        'user_progress:B',
        'user_progress:a%y',
        'user_progress:a/10',
        'user_progress:a/2',
        'user_progress:a_x',
        'user_progress:b',
      ]);
    });

    it('pages with an exclusive cursor across classes and honours the limit', async () => {
      const all = names(await store.listArtifacts({ product: 'gurukul', limit: 100 }));
      const seen: string[] = [];
      let after: { class: string; name: string } | undefined;
      for (;;) {
        const page = await store.listArtifacts({ product: 'gurukul', limit: 3, after });
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(3);
        seen.push(...names(page));
        const last = page[page.length - 1];
        if (!last) break;
        after = { class: last.class, name: last.name };
      }
      expect(seen).toEqual(all);
    });

    it('filters by class and a literal prefix, and leaves tombstones out', async () => {
      const byClass = await store.listArtifacts({
        product: 'gurukul',
        class: 'educational_content',
        limit: 100,
      });
      expect(names(byClass)).toEqual(['educational_content:a', 'educational_content:z']);
      const prefix = (p: string) =>
        store.listArtifacts({ product: 'gurukul', prefix: p, limit: 9 });
      expect(names(await prefix('a/'))).toEqual(['user_progress:a/10', 'user_progress:a/2']);
      expect(names(await prefix('a_'))).toEqual(['user_progress:a_x']);
      expect(names(await prefix('a%'))).toEqual(['user_progress:a%y']);
      await commit(version({ name: 'b', version: 2, tombstone: true, storage: 'none', size: 0 }));
      expect(names(await prefix('b'))).toEqual([]);
      expect(names(await store.listArtifacts({ product: 'gurukul', limit: 100 }))).not.toContain(
        'user_progress:b',
      );
      expect((await store.getHead({ ...A, name: 'b' }))?.tombstone).toBe(true);
      await commit(version({ name: 'b', version: 3 }));
      expect((await prefix('b')).map((v) => v.version)).toEqual([3]);
    });
  });

  describe('audit log', () => {
    it('appends entries in index order with receipts that match the stored leaves', async () => {
      const receipts = await store.appendAudit([
        draft({ id: 'k1', product: 'gurukul' }, A),
        draft({ id: 'k2', product: 'ai_avatar' }, B),
      ]);
      expect(await store.appendAudit([])).toEqual([]);
      const more = await Promise.all([
        store.appendAudit([draft({ id: 'k1', product: 'gurukul' }, A)]),
        store.appendAudit([draft({ id: 'k1', product: 'gurukul' }, A)]),
      ]);
      expect([...receipts, ...more.flat()].map((r) => r.leafIndex)).toEqual([0, 1, 2, 3]);
      expect(await store.auditSize()).toBe(4);
      for (const receipt of [...receipts, ...more.flat()]) {
        const entry = await store.auditEntry(receipt.leafIndex);
        expect(entry?.leafHash.toString('hex')).toBe(receipt.leafHash);
        expect(entry?.leafHash).toEqual(leafHash(entry?.canonical ?? Buffer.alloc(0)));
        expect(JSON.parse(entry?.canonical.toString() ?? '{}').index).toBe(receipt.leafIndex);
      }
      expect(await store.auditEntry(4)).toBeNull();
    });

    it('stores every complete subtree: leaves and nodes give the recomputed root', async () => {
      const drafts = Array.from({ length: 37 }, (_, i) =>
        draft({ id: `k${i % 3}`, product: 'gurukul' }, A),
      );
      await store.appendAudit(drafts.slice(0, 20));
      await store.appendAudit(drafts.slice(20));
      const size = await store.auditSize();
      expect(size).toBe(37);
      const expected = CompactRange.empty();
      const leaves: Buffer[] = [];
      for await (const entry of store.auditRange(0, size)) {
        expected.append(entry.leafHash);
        leaves.push(entry.leafHash);
      }
      const ids = decompose(0, size);
      expect(foldSubtrees(await store.auditSubtrees(ids), ids)).toEqual(expected.root());
      // Inner subtrees and single leaves, in the order asked.
      const inner = [
        { level: 0, index: 36 },
        { level: 3, index: 2 },
        { level: 1, index: 0 },
      ];
      const partial = CompactRange.empty();
      for (const leaf of leaves.slice(16, 24)) partial.append(leaf);
      const pair = CompactRange.empty();
      for (const leaf of leaves.slice(0, 2)) pair.append(leaf);
      expect(await store.auditSubtrees(inner)).toEqual([leaves[36], partial.root(), pair.root()]);
      expect(await store.auditSubtrees([])).toEqual([]);
      await expect(store.auditSubtrees([{ level: 0, index: 37 }])).rejects.toThrow(/not stored/);
      await expect(store.auditSubtrees([{ level: 6, index: 0 }])).rejects.toThrow(/not stored/);
    });

    it('filters entries by artifact, principal, decision, threat, time, cursor and visibility', async () => {
      await store.appendAudit([
        draft({ id: 'k1', product: 'gurukul' }, A),
        draft({ id: 'k2', product: 'ai_avatar' }, B, { allow: false, threats: ['T1', 'T4'] }),
        draft({ id: 'k2', product: 'ai_avatar' }, A, {
          allow: false,
          threats: ['T11' as ThreatId],
        }),
        draft({ id: 'owner', product: null }, B),
      ]);
      const indices = async (query: Partial<Parameters<MetadataStore['auditEntries']>[0]>) =>
        (await store.auditEntries({ limit: 100, ...query })).map((e) => e.index);
      expect(await indices({})).toEqual([0, 1, 2, 3]);
      expect(await indices({ artifact: A })).toEqual([0, 2]);
      expect(await indices({ principal: 'k2' })).toEqual([1, 2]);
      expect(await indices({ allow: true })).toEqual([0, 3]);
      expect(await indices({ allow: false })).toEqual([1, 2]);
      expect(await indices({ threat: 'T1' })).toEqual([1]);
      expect(await indices({ threat: 'T4' })).toEqual([1]);
      expect(await indices({ since: '2000-01-01T00:00:00.000Z' })).toEqual([0, 1, 2, 3]);
      expect(await indices({ since: '2999-01-01T00:00:00.000Z' })).toEqual([]);
      expect(await indices({ afterIndex: 1 })).toEqual([2, 3]);
      expect(await indices({ visibleTo: 'ai_avatar' })).toEqual([1, 2, 3]);
      expect(await indices({ visibleTo: 'gurukul' })).toEqual([0, 2]);
      expect(await indices({ limit: 2, afterIndex: 0 })).toEqual([1, 2]);
      expect(await indices({ afterIndex: 0, throughIndex: 2 })).toEqual([1, 2]);
      expect(await indices({ throughIndex: 0 })).toEqual([0]);
      expect(await indices({ principal: 'k2', throughIndex: 1 })).toEqual([1]);
      expect(await indices({ principal: 'k2', allow: false, artifact: A })).toEqual([2]);
    });

    it('reads ranges in pages, across page boundaries', async () => {
      const template = draft({ id: 'k1', product: 'gurukul' }, A);
      await store.appendAudit(Array.from({ length: 2100 }, () => template));
      const read = async (from: number, to: number) => {
        const indices: number[] = [];
        for await (const entry of store.auditRange(from, to)) indices.push(entry.index);
        return indices;
      };
      const all = await read(0, 2100);
      expect(all).toHaveLength(2100);
      expect(all.every((index, i) => index === i)).toBe(true);
      expect(await read(995, 1005)).toEqual([
        995, 996, 997, 998, 999, 1000, 1001, 1002, 1003, 1004,
      ]);
      expect(await read(2098, 5000)).toEqual([2098, 2099]);
      expect(await read(5, 5)).toEqual([]);
    });

    it('keeps one checkpoint per size, smallest first', async () => {
      expect(await store.latestCheckpoint()).toBeNull();
      const checkpoint = (size: number, note: string) => ({
        size,
        rootHash: Buffer.alloc(32, size),
        note,
        createdAt: '2026-11-27T20:00:00.000Z',
      });
      await store.insertCheckpoint(checkpoint(5, 'five'));
      await store.insertCheckpoint(checkpoint(2, 'two'));
      await store.insertCheckpoint(checkpoint(5, 'five again'));
      expect(await store.latestCheckpoint()).toEqual(checkpoint(5, 'five'));
      const all = [];
      for await (const stored of store.checkpoints()) all.push(stored);
      expect(all).toEqual([checkpoint(2, 'two'), checkpoint(5, 'five')]);
    });
  });

  describe('text with U+0000 (request data may carry it)', () => {
    it('round-trips it exactly in governance records and audit filters', async () => {
      const odd = 'a\u0000b\uE000c\uE0000\\0';
      await store.insertKey(key('k1', { name: odd }));
      expect((await store.getKey('k1'))?.name).toBe(odd);
      await store.insertThreatRecords([
        {
          at: '2026-11-27T20:00:00.000Z',
          requestId: 'r1',
          principalId: 'k1',
          principalKind: 'product',
          product: 'gurukul',
          threatId: 'T1',
          severity: 'CRITICAL',
          evidence: `name ${odd}`,
          counted: true,
        },
      ]);
      expect((await store.recentThreats(1))[0]?.evidence).toBe(`name ${odd}`);
      const target = { ...A, name: odd };
      const receipts = await Promise.all([
        store.appendAudit([draft({ id: 'k1', product: 'gurukul' }, target, { allow: false })]),
        store.appendAudit([draft({ id: 'k1', product: 'gurukul' }, A)]),
      ]);
      expect(receipts.flat().map((r) => r.leafIndex)).toEqual([0, 1]);
      const found = await store.auditEntries({ artifact: target, limit: 10 });
      expect(found.map((e) => e.index)).toEqual([0]);
      expect(JSON.parse(found[0]?.canonical.toString() ?? '{}').target.name).toBe(odd);
      expect(await store.auditEntries({ artifact: { ...A, name: 'a\uE000b' }, limit: 10 })).toEqual(
        [],
      );
    });
  });

  describe('schema versions', () => {
    it('refuses a database migrated by a newer Bucket and leaves its data alone', async () => {
      await commit(version({ name: 'a', version: 1 }));
      await opened.makeSchemaNewer();
      await expect(opened.reopen()).rejects.toThrow(SchemaTooNewError);
    });
  });
});
