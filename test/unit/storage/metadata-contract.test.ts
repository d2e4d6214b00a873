/**
 * The MetadataStore contract: the same expectations on every adapter (SQLite, PostgreSQL), so
 * that services see the same results and errors whichever one a configuration names. This file:
 * governance records, text the database must keep as given, schema versions; the artifact and
 * audit-log ports have their own files (metadata-artifacts-, metadata-audit-contract.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import { threat, type ThreatId } from '../../../src/domain/decision.js';
import { defaultPolicyVersion } from '../../../src/policy/load.js';
import { SchemaTooNewError } from '../../../src/storage/errors.js';
import type { ChangeEntry, MetadataStore } from '../../../src/storage/ports.js';
import { metadataAdapters, type OpenedStore } from '../../helpers/metadata-adapters.js';
import { commitNext, version } from '../../helpers/versions.js';
import { A, draft, integration, key, openEachTest } from '../../helpers/metadata-contract.js';

const adapters = await metadataAdapters();

describe.each(adapters)('MetadataStore contract: $name', (adapter) => {
  let opened: OpenedStore;
  let store: MetadataStore;
  openEachTest(adapter, (each) => {
    opened = each;
    store = each.store;
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
