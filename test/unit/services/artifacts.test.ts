/**
 * The artifact use cases (services/artifacts/) in process, on the embedded store: what each
 * stores, what it answers, and what it leaves in the audit log (SPEC §3, §6).
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EMPTY_SHA256 } from '../../../src/domain/sha256.js';
import type { Principal } from '../../../src/domain/principal.js';
import {
  AUDITOR,
  CORE,
  on,
  OWNER,
  put,
  refusal,
  serviceRig,
  type ServiceRig,
} from '../../helpers/service-rig.js';
import { sha256 } from '../../helpers/hash.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

async function text(opened: Promise<NodeJS.ReadableStream | Buffer>): Promise<string> {
  const content = await opened;
  if (Buffer.isBuffer(content)) return content.toString('utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

let rig: ServiceRig;
beforeEach(async () => {
  rig = await serviceRig();
});
afterEach(async () => rig.close());

describe('writing', () => {
  it('creates, then updates, each version committed with the entry of its decision', async () => {
    const first = json({ spec: 1 });
    const created = await rig.artifacts.put(put(CORE, 'agent_spec', 'a.json', first));
    expect(created).toMatchObject({
      created: true,
      version: { version: 1, sha256: sha256(first), size: first.length, storage: 'inline' },
      decision: { allow: true, operation: 'CREATE' },
      receipt: { leafIndex: rig.firstIndex },
    });
    const updated = await rig.artifacts.put(put(CORE, 'agent_spec', 'a.json', json({ spec: 2 })));
    expect(updated).toMatchObject({
      created: false,
      version: { version: 2 },
      decision: { operation: 'UPDATE' },
      receipt: { leafIndex: rig.firstIndex + 1 },
    });
    // One entry per write: the body-phase decision, with the version it created.
    const entries = await rig.entries();
    expect(entries.map((e) => [e.allow, e.operation, e.version, e.sha256])).toEqual([
      [true, 'CREATE', 1, sha256(first)],
      [true, 'UPDATE', 2, updated.version.sha256],
    ]);
    expect(entries[0]?.id).toBe(created.decision.id);
  });

  it('records a denial and stores nothing', async () => {
    const gurukul: Principal = { ...CORE, id: 'key_core', product: 'gurukul' };
    const denied = await refusal(
      rig.artifacts.put(put(gurukul, 'agent_spec', 'a.json', json({}), { product: 'core' })),
    );
    expect(denied.status).toBe(403);
    expect(await rig.store.getHead({ product: 'core', class: 'agent_spec', name: 'a.json' })).toBe(
      null,
    );
    const entries = await rig.entries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ allow: false, status: 403, id: denied.decision?.id });
  });

  it('decides the received body: invalid JSON is refused after the header phase allowed', async () => {
    const denied = await refusal(
      rig.artifacts.put(put(CORE, 'agent_spec', 'bad.json', Buffer.from('{"open'))),
    );
    expect(denied.code).toBe('invalid_json');
    const entries = await rig.entries();
    // The denial only: the header phase's allow is never recorded on its own.
    expect(entries.map((e) => [e.allow, e.status])).toEqual([[false, 400]]);
  });

  it('answers a precondition the head fails with its code, recorded as a denial', async () => {
    await rig.artifacts.put(put(CORE, 'agent_spec', 'p.json', json({ v: 1 })));
    const exists = await refusal(
      rig.artifacts.put(
        put(CORE, 'agent_spec', 'p.json', json({ v: 2 }), {
          preconditions: { ifNoneMatch: true, ifVersion: null },
        }),
      ),
    );
    expect([exists.status, exists.code]).toEqual([412, 'already_exists']);
    const stale = await refusal(
      rig.artifacts.put(
        put(CORE, 'agent_spec', 'p.json', json({ v: 2 }), {
          preconditions: { ifNoneMatch: false, ifVersion: 7 },
        }),
      ),
    );
    expect([stale.status, stale.code]).toEqual([409, 'version_conflict']);
    expect((await rig.entries()).map((e) => e.status)).toEqual([201, 412, 409]);
  });

  it('records a body that breaks off after the allow as a failure, never as a success', async () => {
    const body = new PassThrough();
    body.write('{"partial": ');
    setImmediate(() => body.destroy(new Error('client went away')));
    await expect(
      rig.artifacts.put(put(CORE, 'agent_spec', 'cut.json', body, { declaredSize: 100 })),
    ).rejects.toThrow();
    const entries = await rig.entries();
    expect(entries).toHaveLength(1);
    // The client's doing (issue 16 item 7): recorded as its disconnect, not a Bucket failure.
    expect(entries[0]).toMatchObject({
      allow: false,
      status: 499,
      operation: 'CREATE',
      reasons: [{ rule: 'client_closed' }],
    });
    expect(
      await rig.store.getHead({ product: 'core', class: 'agent_spec', name: 'cut.json' }),
    ).toBe(null);
  });
});

describe('reading', () => {
  it('reads the content and the versions; each read is recorded as it is decided', async () => {
    const bytes = json({ read: 'me' });
    await rig.artifacts.put(put(CORE, 'agent_spec', 'r.json', bytes));
    const read = await rig.artifacts.read({ ...on(CORE, 'agent_spec', 'r.json'), content: true });
    expect(read.version.version).toBe(1);
    expect(await text(read.open())).toBe(bytes.toString());
    expect(await text(read.open({ start: 2, end: 5 }))).toBe(bytes.subarray(2, 6).toString());
    const versions = await rig.artifacts.versions(on(CORE, 'agent_spec', 'r.json'));
    expect(versions.map((v) => v.version)).toEqual([1]);
    expect((await rig.entries()).map((e) => [e.allow, e.operation])).toEqual([
      [true, 'CREATE'],
      [true, 'READ'],
      [true, 'READ'],
    ]);
  });

  it('answers a missing artifact or version, and keeps content from auditors', async () => {
    const missing = await refusal(
      rig.artifacts.read({ ...on(CORE, 'agent_spec', 'none.json'), content: true }),
    );
    expect(missing.code).toBe('artifact_not_found');
    await rig.artifacts.put(put(CORE, 'agent_spec', 'v.json', json({})));
    const noVersion = await refusal(
      rig.artifacts.read({ ...on(CORE, 'agent_spec', 'v.json'), version: 9, content: true }),
    );
    expect(noVersion.code).toBe('version_not_found');
    const auditor = { ...on(AUDITOR, 'agent_spec', 'v.json'), product: 'core' };
    expect((await refusal(rig.artifacts.read({ ...auditor, content: true }))).status).toBe(403);
    // Metadata only: HEAD is open to auditors (SPEC §1).
    expect((await rig.artifacts.read({ ...auditor, content: false })).version.version).toBe(1);
  });

  it('lists live artifacts a page at a time, following the cursor', async () => {
    for (const name of ['c.json', 'a.json', 'b.json']) {
      await rig.artifacts.put(put(CORE, 'agent_spec', name, json({ name })));
    }
    const request = { requestId: 'req_list', principal: CORE, product: 'core', limit: 2 };
    const first = await rig.artifacts.list(request);
    expect(first.items.map((v) => v.name)).toEqual(['a.json', 'b.json']);
    const second = await rig.artifacts.list({ ...request, cursor: first.nextCursor ?? '' });
    expect(second.items.map((v) => v.name)).toEqual(['c.json']);
    expect(second.nextCursor).toBeNull();
    const bad = await refusal(rig.artifacts.list({ ...request, cursor: 'not-a-cursor' }));
    expect(bad.code).toBe('invalid_cursor');
  });
});

describe('tombstones', () => {
  it('deletes as a new version and restores the last live content', async () => {
    const bytes = json({ basket: 1 });
    await rig.artifacts.put(put(CORE, 'basket_config', 'b.json', bytes));
    const deleted = await rig.artifacts.delete(on(CORE, 'basket_config', 'b.json'));
    expect(deleted.version).toMatchObject({
      version: 2,
      tombstone: true,
      sha256: EMPTY_SHA256,
      size: 0,
    });
    const gone = await refusal(
      rig.artifacts.read({ ...on(CORE, 'basket_config', 'b.json'), content: true }),
    );
    expect(gone.code).toBe('artifact_deleted');

    const restored = await rig.artifacts.restore(on(OWNER, 'basket_config', 'b.json'));
    expect(restored.version).toMatchObject({ version: 3, tombstone: false, sha256: sha256(bytes) });
    const read = await rig.artifacts.read({
      ...on(CORE, 'basket_config', 'b.json'),
      content: true,
    });
    expect(await text(read.open())).toBe(bytes.toString());

    const entries = await rig.entries();
    expect(entries.map((e) => [e.operation, e.version, e.sha256 ?? null])).toEqual([
      ['CREATE', 1, sha256(bytes)],
      ['DELETE', 2, EMPTY_SHA256],
      // The read of the tombstone is allowed (and recorded); it answers artifact_deleted.
      ['READ', undefined, null],
      ['DELETE', 3, sha256(bytes)],
      ['READ', undefined, null],
    ]);
  });

  it('records a delete that cannot happen after its allow as the failure it is', async () => {
    const missing = await refusal(rig.artifacts.delete(on(CORE, 'basket_config', 'none.json')));
    expect(missing.code).toBe('artifact_not_found');
    await rig.artifacts.put(put(CORE, 'basket_config', 'twice.json', json({})));
    await rig.artifacts.delete(on(CORE, 'basket_config', 'twice.json'));
    const again = await refusal(rig.artifacts.delete(on(CORE, 'basket_config', 'twice.json')));
    expect(again.code).toBe('artifact_deleted');
    const notDeleted = await refusal(rig.artifacts.restore(on(OWNER, 'agent_spec', 'x.json')));
    expect(notDeleted.status).toBe(403);
    const entries = await rig.entries();
    expect(entries.map((e) => [e.allow, e.status, e.reasons[0]?.rule ?? null])).toEqual([
      [false, 404, 'artifact_not_found'],
      // The status each client received: 201 for the new artifact, 204 for its delete.
      [true, 201, null],
      [true, 204, null],
      [false, 404, 'artifact_deleted'],
      // agent_spec does not allow DELETE, so neither does restore: a denial of the gate.
      [false, 403, 'operation_not_allowed'],
    ]);
  });
});
