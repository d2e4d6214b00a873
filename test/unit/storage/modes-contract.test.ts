/**
 * The ModeStore contract (SPEC §9) on every metadata adapter: the mode and incidents persist (a
 * reopened store reads them), each change appends its entry and its events in its own transaction
 * and moves the change stamp (other nodes reload), and resolving twice changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseEntry, type AuditDraft } from '../../../src/audit/entry.js';
import type { Incident, ModeState } from '../../../src/domain/modes.js';
import type { ChangeEntry, MetadataStore } from '../../../src/storage/ports.js';
import { openEachTest } from '../../helpers/metadata-contract.js';
import { metadataAdapters, type OpenedStore } from '../../helpers/metadata-adapters.js';

const adapters = await metadataAdapters();

function entry(operation: string, members: Partial<AuditDraft> = {}): ChangeEntry {
  const draft: AuditDraft = {
    decision: {
      id: randomUUID(),
      allow: true,
      status: 200,
      operation,
      principal: { id: 'owner', kind: 'owner', product: null },
      target: { product: null, class: null, name: null },
      reasons: [],
      threats: [],
      policyVersion: 1,
    },
    requestId: randomUUID(),
    ...members,
  };
  return { draft, receipt: null };
}

const READ_ONLY: ModeState = {
  mode: 'read_only',
  since: '2026-12-04T19:00:00.000Z',
  reason: 'disk check',
  by: 'owner',
  incidentId: null,
};

function incident(id: string): Incident {
  return {
    id,
    kind: 'integrity',
    status: 'open',
    detectedAt: '2026-12-04T19:01:00.000Z',
    evidence: { sha256: 'ab'.repeat(32), product: 'gurukul' },
    resolvedAt: null,
    resolvedBy: null,
    resolution: null,
  };
}

describe.each(adapters)('ModeStore contract: $name', (adapter) => {
  let opened: OpenedStore;
  let store: MetadataStore;

  openEachTest(adapter, (each) => {
    opened = each;
    store = each.store;
  });

  it('stores a switch with its entry and event, moves the stamp, and keeps it on reopening', async () => {
    expect(await store.currentMode()).toBeNull();
    const stamp = await store.changeStamp();
    const allow = entry('mode.set', {
      mode: { mode: 'read_only', previous: 'normal', reason: 'disk check', incidentId: null },
    });
    await store.setMode({ state: READ_ONLY, previous: 'normal' }, allow);
    expect(await store.currentMode()).toEqual(READ_ONLY);
    expect(await store.changeStamp()).not.toBe(stamp);
    const index = allow.receipt?.leafIndex ?? -1;
    const stored = await store.auditEntry(index);
    expect(parseEntry(stored?.canonical ?? '{}')).toMatchObject({
      operation: 'mode.set',
      mode: { mode: 'read_only', previous: 'normal' },
    });
    const events = await store.events({ since: 0, limit: 10 });
    expect(events).toEqual([
      expect.objectContaining({
        type: 'bucket.mode.changed',
        subject: 'mode/read_only',
        product: null,
        auditIndex: index,
        data: expect.objectContaining({ mode: 'read_only', previous: 'normal', by: 'owner' }),
      }),
    ]);
    const reopened = await opened.reopen();
    expect(await reopened.currentMode()).toEqual(READ_ONLY);
  });

  it('opens an incident with the switch it makes in one transaction, and resolves it once', async () => {
    const switched: ModeState = { ...READ_ONLY, by: 'system', incidentId: 'inc_1' };
    await store.openIncident(
      incident('inc_1'),
      { state: switched, previous: 'normal' },
      entry('incidents.open'),
    );
    await store.openIncident(
      { ...incident('inc_2'), kind: 'gate_failure' },
      null,
      entry('incidents.open'),
    );
    expect(await store.currentMode()).toEqual(switched);
    expect((await store.listIncidents('open')).map((found) => found.id).sort()).toEqual([
      'inc_1',
      'inc_2',
    ]);
    const resolution = { at: '2026-12-04T19:05:00.000Z', by: 'owner', resolution: 'restored' };
    const first = await store.resolveIncident('inc_1', resolution, entry('incidents.resolve'));
    expect(first).toEqual({
      incident: {
        ...incident('inc_1'),
        status: 'resolved',
        resolvedAt: resolution.at,
        resolvedBy: 'owner',
        resolution: 'restored',
      },
      resolvedNow: true,
    });
    const again = entry('incidents.resolve');
    const second = await store.resolveIncident('inc_1', { ...resolution, resolution: 'x' }, again);
    expect(second?.resolvedNow).toBe(false);
    expect(second?.incident.resolution).toBe('restored');
    expect(again.receipt).toBeNull();
    expect(await store.resolveIncident('inc_nope', resolution)).toBeNull();
    expect((await store.listIncidents('open')).map((found) => found.id)).toEqual(['inc_2']);
    expect((await store.listIncidents('resolved')).map((found) => found.id)).toEqual(['inc_1']);
    // Resolving leaves the mode as it is.
    expect((await store.currentMode())?.mode).toBe('read_only');
    const types = (await store.events({ since: 0, limit: 10 })).map((event) => event.type);
    expect(types).toEqual([
      'bucket.incident.opened',
      'bucket.mode.changed',
      'bucket.incident.opened',
      'bucket.incident.resolved',
    ]);
  });
});
