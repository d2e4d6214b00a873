/**
 * The WebhookStore contract (SPEC §10) on every metadata adapter: webhooks and their events, the
 * lease that lets exactly one dispatcher deliver a webhook at a time (claims by two owners never
 * share a webhook; a lease runs out; a writer without it changes nothing), the delivery log, and
 * the state a reopened store continues from.
 */
import { describe, expect, it } from 'vitest';
import { keyEvent } from '../../../src/domain/events.js';
import type { KeyRecord } from '../../../src/domain/principal.js';
import type { WebhookRecord } from '../../../src/domain/webhooks.js';
import type { MetadataStore } from '../../../src/storage/ports.js';
import { openEachTest } from '../../helpers/metadata-contract.js';
import { metadataAdapters, type OpenedStore } from '../../helpers/metadata-adapters.js';

const adapters = await metadataAdapters();

function webhook(id: string, cursor = 0): WebhookRecord {
  return {
    id,
    url: `https://hooks.example.com/${id}`,
    types: ['bucket.key.'],
    product: null,
    secret: 'kek1:wrapped',
    createdAt: `2026-12-04T18:00:00.00${id.length % 10}Z`,
    createdBy: 'key_owner',
    cursor,
    nextAttemptAt: 0,
    failures: 0,
    failingSince: null,
    disabledAt: null,
  };
}

function key(id: string): KeyRecord {
  return {
    id,
    hash: `hash-${id}`,
    kind: 'auditor',
    product: null,
    integrationId: null,
    name: id,
    createdAt: '2026-12-04T18:00:00.000Z',
    expiresAt: null,
    revokedAt: null,
  };
}

const claim = (owner: string, now: number, latestEventId = 100) => ({
  owner,
  now,
  leaseUntil: now + 1000,
  latestEventId,
  limit: 10,
});

describe.each(adapters)('WebhookStore contract: $name', (adapter) => {
  let opened: OpenedStore;
  let store: MetadataStore;

  openEachTest(adapter, (each) => {
    opened = each;
    store = each.store;
  });

  it('stores webhooks with their created and deleted events, never the secret in an event', async () => {
    await store.insertWebhook(webhook('wh_a'));
    await store.insertWebhook(webhook('wh_b'));
    expect((await store.listWebhooks()).map((w) => w.id)).toEqual(['wh_a', 'wh_b']);
    expect(await store.getWebhook('wh_a')).toEqual(webhook('wh_a'));
    expect((await store.deleteWebhook('wh_a'))?.id).toBe('wh_a');
    expect(await store.deleteWebhook('wh_a')).toBeNull();
    expect(await store.getWebhook('wh_a')).toBeNull();
    const events = await store.events({ since: 0, limit: 100 });
    expect(events.map((e) => [e.type, e.subject])).toEqual([
      ['bucket.webhook.created', 'wh_a'],
      ['bucket.webhook.created', 'wh_b'],
      ['bucket.webhook.deleted', 'wh_a'],
    ]);
    expect(JSON.stringify(events)).not.toContain('kek1:wrapped');
  });

  it('leases a due webhook to one owner at a time, until the lease runs out', async () => {
    await store.insertWebhook(webhook('wh_a'));
    await store.insertKey(key('k1'));
    const [a, b] = await Promise.all([
      store.claimWebhooks(claim('node-a', 10)),
      store.claimWebhooks(claim('node-b', 10)),
    ]);
    expect([...(a ?? []), ...(b ?? [])].map((w) => w.id)).toEqual(['wh_a']);
    const holder = a?.length ? 'node-a' : 'node-b';
    const other = holder === 'node-a' ? 'node-b' : 'node-a';
    expect(await store.claimWebhooks(claim(other, 500))).toEqual([]);
    // Its holder may claim again (a new round), and the other node once the lease ran out.
    expect((await store.claimWebhooks(claim(holder, 600))).map((w) => w.id)).toEqual(['wh_a']);
    expect((await store.claimWebhooks(claim(other, 5000))).map((w) => w.id)).toEqual(['wh_a']);
    // The former holder now writes nothing.
    const progress = { cursor: 1, nextAttemptAt: 0, failures: 0, failingSince: null };
    expect(await store.advanceWebhook('wh_a', holder, progress)).toBe(false);
    expect(await store.disableWebhook('wh_a', holder, '2026-12-04T19:00:00.000Z', 'x')).toBe(false);
    expect((await store.getWebhook('wh_a'))?.cursor).toBe(0);
    await store.releaseWebhook('wh_a', other);
    expect((await store.claimWebhooks(claim(holder, 5001))).map((w) => w.id)).toEqual(['wh_a']);
  });

  it('claims only webhooks that are enabled, due and behind the newest event', async () => {
    await store.insertWebhook({ ...webhook('wh_due'), cursor: 3 });
    await store.insertWebhook({ ...webhook('wh_later'), nextAttemptAt: 1000 });
    await store.insertWebhook({ ...webhook('wh_caught_up'), cursor: 5 });
    const claimed = await store.claimWebhooks(claim('node-a', 10, 5));
    expect(claimed.map((w) => w.id)).toEqual(['wh_due']);
    expect(
      await store.disableWebhook('wh_due', 'node-a', '2026-12-04T19:00:00.000Z', 'gave up'),
    ).toBe(true);
    expect((await store.getWebhook('wh_due'))?.disabledAt).toBe('2026-12-04T19:00:00.000Z');
    expect(await store.claimWebhooks(claim('node-a', 2000, 5))).toEqual([
      expect.objectContaining({ id: 'wh_later' }),
    ]);
    const disabled = await store.events({
      since: 0,
      limit: 100,
      typePrefix: 'bucket.webhook.disabled',
    });
    expect(disabled.map((e) => [e.subject, e.data['reason']])).toEqual([['wh_due', 'gave up']]);
  });

  it('logs attempts with the state they leave, kept across a reopen, removed with the webhook', async () => {
    await store.insertWebhook(webhook('wh_a'));
    await store.insertKey(key('k1'));
    await store.claimWebhooks(claim('node-a', 10));
    const attempt = (n: number, status: number | null, error: string | null) => ({
      attempt: {
        eventId: 2,
        attempt: n,
        at: '2026-12-04T18:00:01.000Z',
        status,
        error,
        durationMs: 5,
      },
      progress:
        status === 200
          ? { cursor: 2, nextAttemptAt: 30, failures: 0, failingSince: null }
          : { cursor: 0, nextAttemptAt: 20 + n, failures: n, failingSince: 11 },
    });
    expect(await store.recordAttempt('wh_a', 'node-a', attempt(1, 500, null))).toBe(true);
    expect(await store.recordAttempt('wh_a', 'node-a', attempt(2, null, 'ECONNREFUSED'))).toBe(
      true,
    );
    expect(await store.recordAttempt('wh_a', 'node-b', attempt(3, 200, null))).toBe(false);
    expect(await store.getWebhook('wh_a')).toMatchObject({
      cursor: 0,
      failures: 2,
      failingSince: 11,
      nextAttemptAt: 22,
    });
    expect(await store.recordAttempt('wh_a', 'node-a', attempt(3, 200, null))).toBe(true);

    const reopened = await opened.reopen();
    expect(await reopened.getWebhook('wh_a')).toMatchObject({
      cursor: 2,
      failures: 0,
      failingSince: null,
    });
    const log = await reopened.webhookDeliveries('wh_a', 0, 10);
    expect(log.map((row) => [row.attempt, row.status, row.error])).toEqual([
      [1, 500, null],
      [2, null, 'ECONNREFUSED'],
      [3, 200, null],
    ]);
    expect(
      (await reopened.webhookDeliveries('wh_a', log[0]?.id ?? 0, 1)).map((row) => row.attempt),
    ).toEqual([2]);
    await reopened.deleteWebhook('wh_a');
    expect(await reopened.webhookDeliveries('wh_a', 0, 10)).toEqual([]);
  });

  it("reads one product's events through the product filter, in cursor order", async () => {
    await store.insertKey({ ...key('k1'), kind: 'product', product: 'gurukul' });
    await store.insertKey({ ...key('k2'), kind: 'product', product: 'ai_avatar' });
    await store.insertKey({ ...key('k3'), kind: 'product', product: 'gurukul' });
    const page = await store.events({ since: 0, limit: 10, product: 'gurukul' });
    expect(page.map((e) => e.subject)).toEqual(['k1', 'k3']);
    expect(page[0]).toMatchObject(
      keyEvent('created', { ...key('k1'), kind: 'product', product: 'gurukul' }),
    );
    expect(
      (
        await store.events({
          since: page[0]?.id ?? 0,
          limit: 10,
          product: 'gurukul',
          typePrefix: 'bucket.key.',
        })
      ).map((e) => e.subject),
    ).toEqual(['k3']);
  });
});
