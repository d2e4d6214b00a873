/**
 * The audit explorer and the live event tail in a real Chromium (issue 23, SPEC §6, §14): an
 * entry's inclusion in the signed checkpoint and that checkpoint's consistency with the one seen
 * before are verified in the browser against the pinned verifier key; a lying server (a forged
 * checkpoint, a wrong proof, another key) is caught; events arrive live over the stream.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeVerifierKey, ed25519PublicKeyBytes } from '../../src/audit/note.js';
import {
  browserMissing,
  eventually,
  openPage,
  seriousViolations,
  signIn,
  useBrowser,
} from '../helpers/browser.js';
import { httpProxy, type AnswerRewrites } from '../helpers/proxy.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const missing = browserMissing();

/** Flips the first hex digit of the first hash of a proof answer. */
function flipFirstProofHash(body: Buffer): Buffer {
  const answer = JSON.parse(body.toString('utf8'));
  const [first = ''] = answer.proof;
  answer.proof[0] = (first[0] === '0' ? '1' : '0') + first.slice(1);
  return Buffer.from(JSON.stringify(answer));
}

describe.skipIf(missing !== null)('web console audit explorer and events', () => {
  let server: InProcessTestServer;
  let proxy: { url: string; close(): Promise<void> };
  const rewrites: AnswerRewrites = new Map();
  let vkey: string;
  let auditorKey: string;
  let writer: ReturnType<typeof client>;
  let written = 0;
  const chromium = useBrowser();

  /** An artifact write; returns its audit leaf index and its path. */
  async function write(): Promise<{ index: number; artifact: string }> {
    const name = `notes/n${++written}.json`;
    const answer = await writer('PUT', `/v1/artifacts/ai_avatar/iteration_history/${name}`, {
      body: { n: written },
    });
    expect(answer.status).toBe(201);
    return { index: answer.json.audit.leafIndex, artifact: `ai_avatar/iteration_history/${name}` };
  }

  /** Waits until the signed checkpoint covers `index`. */
  async function checkpointCovers(index: number): Promise<void> {
    const owner = client(server.url, server.ownerKey);
    await eventually(
      async () => (await owner('GET', '/v1/audit/checkpoint')).json.size,
    ).toBeGreaterThan(index);
  }

  /** Selects the write's entry in the audit view (filtered to its artifact), verifies it with `key`. */
  async function verify(
    page: import('playwright-core').Page,
    { index, artifact }: { index: number; artifact: string },
    key = vkey,
  ) {
    await page.getByLabel('Artifact', { exact: true }).fill(artifact);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: `Entry ${index}`, exact: true }).click();
    await page.getByRole('region', { name: 'Canonical bytes' }).waitFor();
    await page.getByLabel('Verifier key').fill(key);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const verdict = page.getByRole('status').filter({ hasText: /Verified|Verification failed/ });
    await verdict.waitFor();
    return (await verdict.textContent()) ?? '';
  }

  beforeAll(async () => {
    server = await startTestServer();
    proxy = await httpProxy(server.url, rewrites);
    const owner = client(server.url, server.ownerKey);
    vkey = (await owner('GET', '/v1/audit/public-key')).json.vkey;
    auditorKey = (await createKey(server, { kind: 'auditor', name: 'auditor' })).key;
    writer = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.dispose();
  });

  it('verifies inclusion and then consistency in the browser with the pinned key', async () => {
    const { page, problems } = await openPage(chromium.browser);
    const entry = await write();
    await checkpointCovers(entry.index);
    await signIn(page, server.url, auditorKey, 'audit');
    const first = await verify(page, entry);
    expect(first).toContain('Verified');
    expect(first).toMatch(/Inclusion proof \(\d+ hashes\) reaches the signed root [0-9a-f]{64}/);
    expect(first).toContain('First checkpoint verified with this key in this browser');
    expect(await seriousViolations(page)).toEqual([]);
    // The log grows; the next verification proves the new checkpoint extends the pinned one.
    await write();
    await checkpointCovers((await write()).index);
    const second = await verify(page, entry);
    expect(second).toContain('Verified');
    expect(second).toMatch(/Consistent with the checkpoint of size \d+ verified before/);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('fails a forged checkpoint, a checkpoint of another key and a wrong inclusion proof', async () => {
    const { page, problems } = await openPage(chromium.browser);
    const entry = await write();
    await checkpointCovers(entry.index);
    await signIn(page, proxy.url, auditorKey, 'audit');
    // The server swaps the root in the signed note: the signature no longer holds.
    rewrites.set('/v1/audit/checkpoint', (body) => {
      const answer = JSON.parse(body.toString('utf8'));
      const lines = answer.note.split('\n');
      lines[2] = Buffer.alloc(32, 7).toString('base64');
      answer.note = lines.join('\n');
      answer.rootHash = Buffer.alloc(32, 7).toString('hex');
      return Buffer.from(JSON.stringify(answer));
    });
    const forged = await verify(page, entry);
    expect(forged).toContain('Verification failed');
    expect(forged).toContain('the checkpoint signature does not verify with the pinned key');
    rewrites.clear();

    // A verifier key of the same name but another key pair: no signature of it.
    const other = generateKeyPairSync('ed25519').privateKey;
    const name = vkey.slice(0, vkey.indexOf('+'));
    const stranger = await verify(
      page,
      entry,
      encodeVerifierKey(name, ed25519PublicKeyBytes(other)),
    );
    expect(stranger).toContain(
      'Verification failed: the checkpoint carries no signature by the pinned key',
    );

    // A proof that does not lead from the leaf to the signed root.
    rewrites.set('/v1/audit/proof/inclusion', flipFirstProofHash);
    const wrongProof = await verify(page, entry);
    expect(wrongProof).toContain(
      'Verification failed: the inclusion proof does not lead to the signed checkpoint root',
    );
    rewrites.clear();
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('fails a log that is not consistent with the checkpoint verified before', async () => {
    const { page } = await openPage(chromium.browser);
    const entry = await write();
    await checkpointCovers(entry.index);
    await signIn(page, proxy.url, auditorKey, 'audit');
    expect(await verify(page, entry)).toContain('Verified');
    await checkpointCovers((await write()).index);
    rewrites.set('/v1/audit/proof/consistency', flipFirstProofHash);
    const verdict = await verify(page, entry);
    rewrites.clear();
    expect(verdict).toMatch(
      /Verification failed: the consistency proof does not reach the (earlier|signed) root/,
    );
    await page.context().close();
  });

  it('tails the event bus live over the stream', async () => {
    const { page, problems } = await openPage(chromium.browser);
    await signIn(page, server.url, server.ownerKey, 'events');
    await eventually(() => page.getByTestId('stream-status').textContent()).toBe('live');
    const log = page.getByRole('log', { name: 'Events' });
    await write();
    await eventually(() => log.textContent()).toMatch(
      new RegExp(`bucket\\.artifact\\.\\S+.*notes/n${written}\\.json`),
    );
    // Filtering by type restarts the tail from the start of the bus, for that type only.
    await page.getByLabel('Type prefix').fill('bucket.policy.');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await eventually(() => log.textContent()).not.toContain('bucket.artifact.');
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
