/**
 * The console's actions in a real Chromium against a real in-process Bucket (issue 23, SPEC §14):
 * the policy edited with its diff and a reason; an upload with a progress bar, a download, a
 * tombstone and a restore; a legal hold; the mode switched and shown as text; a basket run
 * followed to its outputs; an erased subject's version shown as purged. Each view, with its data, passes axe-core.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserMissing,
  eventually,
  openPage,
  openView,
  seriousViolations,
  signIn,
  useBrowser,
} from '../helpers/browser.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const missing = browserMissing();

/** Sets a file input from bytes in memory. */
async function chooseFile(page: Page, label: string, name: string, bytes: Buffer, type: string) {
  await page
    .getByLabel(label, { exact: true })
    .setInputFiles({ name, mimeType: type, buffer: bytes });
}

describe.skipIf(missing !== null)('web console actions', () => {
  let server: InProcessTestServer;
  let productKey: string;
  const chromium = useBrowser();

  beforeAll(async () => {
    server = await startTestServer();
    productKey = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
  });
  afterAll(async () => server?.dispose());

  it('edits the policy: validation, the diff before applying, a reason, the history', async () => {
    const { page, problems } = await openPage(chromium.browser);
    await signIn(page, server.url, server.ownerKey, 'policy');
    const editor = page.getByLabel('Policy document (JSON)');
    const text = await editor.inputValue();
    await editor.fill(`${text}}`);
    await page.getByRole('button', { name: 'Review changes' }).click();
    await eventually(() => page.getByRole('alert').textContent()).toContain('Invalid: not JSON');
    // What only the Bucket's JSON Schema knows is refused on apply, naming the JSON path.
    const invalid = JSON.parse(text);
    invalid.limits.maxBatch = 'many';
    await editor.fill(JSON.stringify(invalid, null, 2));
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.getByLabel('Reason', { exact: true }).fill('an invalid change');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(() => page.getByRole('alert').textContent()).toMatch(/400 .*limits.*maxBatch/);
    // Tombstones for avatar configurations: DELETE joins the class's operations.
    const document = JSON.parse(text);
    document.classes.avatar_config.operations.push('DELETE');
    await editor.fill(JSON.stringify(document, null, 2));
    await page.getByRole('button', { name: 'Review changes' }).click();
    const changes = page.getByRole('list', { name: 'Changes to apply' });
    await eventually(() => changes.textContent()).toContain(
      '~ /classes/avatar_config/operations: ["CREATE","READ","UPDATE"] → ["CREATE","READ","UPDATE","DELETE"]',
    );
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('Reason', { exact: true }).fill('console test: tombstones for avatars');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Applied: policy version 2').waitFor();
    const live = await client(server.url, server.ownerKey)('GET', '/v1/governance/policy');
    expect(live.json.version).toBe(2);
    expect(live.json.document.classes.avatar_config.operations).toContain('DELETE');
    await page.getByRole('button', { name: 'Version 2' }).click();
    await page.getByRole('list', { name: 'Changes in version 2' }).waitFor();
    expect(await page.getByText('console test: tombstones for avatars').count()).toBe(1);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('uploads with a progress bar, downloads the same bytes, tombstones and restores', async () => {
    const { page, problems } = await openPage(chromium.browser);
    await signIn(page, server.url, productKey, 'artifacts');
    // A throttled link (2 MiB/s up) makes the progress visible between 0 and 100.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 2 * 1024 * 1024,
    });
    const content = randomBytes(3 * 1024 * 1024);
    await page.getByLabel('Upload class').selectOption('model_checkpoint');
    await page.getByLabel('Name', { exact: true }).fill('avatar/v1.ckpt');
    await chooseFile(page, 'File', 'v1.ckpt', content, 'application/octet-stream');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const bar = page.getByRole('progressbar', { name: 'Upload progress' });
    await page.waitForFunction(() => {
      const value = Number(
        (globalThis as any).document.getElementById('up-progress')?.getAttribute('value') ?? 0,
      );
      return value > 0 && value < 100;
    });
    await page.getByText(/Uploaded version 1 \(sha256 [0-9a-f]{64}/).waitFor({ timeout: 20_000 });
    expect(await bar.getAttribute('value')).toBe('100');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const sha = createHash('sha256').update(content).digest('hex');
    await page.getByRole('heading', { name: 'Artifact model_checkpoint/avatar/v1.ckpt' }).waitFor();
    await page.getByRole('cell', { name: sha }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download version 1' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('v1.ckpt');
    expect((await readFile((await download.path())!)).equals(content)).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);

    // A JSON class the policy now lets the product tombstone (the test above).
    await page.getByLabel('Upload class').selectOption('avatar_config');
    await page.getByLabel('Name', { exact: true }).fill('configs/main.json');
    await chooseFile(page, 'File', 'main.json', Buffer.from('{"hair":"red"}'), 'application/json');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByRole('heading', { name: 'Artifact avatar_config/configs/main.json' }).waitFor();
    await page.getByRole('button', { name: 'Tombstone' }).click();
    await page.getByRole('cell', { name: 'tombstone' }).waitFor();
    await page.getByRole('button', { name: 'Restore' }).click();
    await page.getByText('Restored').waitFor();
    const api = client(server.url, productKey);
    const read = await api('GET', '/v1/artifacts/ai_avatar/avatar_config/configs/main.json');
    expect(read.status).toBe(200);
    expect(read.json).toEqual({ hair: 'red' });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('places a legal hold on an artifact, lists it and switches the mode', async () => {
    const { page, problems } = await openPage(chromium.browser);
    await signIn(page, server.url, server.ownerKey, 'artifacts');
    await page.getByLabel('Product', { exact: true }).selectOption('ai_avatar');
    await page.getByRole('button', { name: 'avatar/v1.ckpt' }).click();
    await page.getByLabel('Case reference').fill('CASE-7');
    await page.getByLabel('Hold reason').fill('litigation');
    await page.getByRole('button', { name: 'Place hold' }).click();
    await page.getByText(/Hold hold_\S* \(CASE-7\): litigation|\(CASE-7\): litigation/).waitFor();
    // The owner may read content, but no product namespace: neither tombstone nor upload.
    expect(await page.getByRole('button', { name: 'Tombstone' }).count()).toBe(0);

    await openView(page, 'Governance');
    await page.getByText('CASE-7', { exact: false }).first().waitFor();
    await page.getByLabel('New mode').selectOption('read_only');
    await page.getByLabel('Mode reason').fill('console test');
    await page.getByRole('button', { name: 'Switch mode' }).click();
    await page.getByText('read_only', { exact: true }).first().waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await openView(page, 'Overview');
    await page.locator('.mode', { hasText: 'read_only' }).waitFor();
    await openView(page, 'Governance');
    await page.getByLabel('New mode').selectOption('normal');
    await page.getByLabel('Mode reason').fill('console test done');
    await page.getByRole('button', { name: 'Switch mode' }).click();
    await page.getByText(/The Bucket is normal/).waitFor();
    await page.getByLabel('Reason for lifting').fill('case settled');
    await page.getByRole('button', { name: 'Lift CASE-7' }).click();
    await page.getByText(/CASE-7: .*\(lifted /).waitFor();
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a halted Bucket as halted, and the owner switches it back', async () => {
    const owner = client(server.url, server.ownerKey);
    const halted = await owner('POST', '/v1/governance/mode', {
      body: { mode: 'halted', reason: 'console test: halted' },
    });
    expect(halted.status).toBe(200);
    const { page, problems } = await openPage(chromium.browser);
    // Sign-in needs only what a halted Bucket still answers (the mode, the audit log).
    await signIn(page, server.url, server.ownerKey);
    await page.locator('.mode', { hasText: 'halted' }).waitFor();
    await page.getByText('unhealthy', { exact: true }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await openView(page, 'Governance');
    await page.getByLabel('New mode').selectOption('normal');
    await page.getByLabel('Mode reason').fill('console test: resumed');
    await page.getByRole('button', { name: 'Switch mode' }).click();
    await page.getByText(/The Bucket is normal/).waitFor();
    expect((await owner('GET', '/v1/governance/mode')).json.mode).toBe('normal');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('starts a basket run, follows its steps live and opens their outputs', async () => {
    const { page, problems } = await openPage(chromium.browser);
    await signIn(page, server.url, server.ownerKey, 'runs');
    await page.getByLabel('Basket', { exact: true }).selectOption('finance_daily_check');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.getByText('Run status: succeeded').waitFor();
    await page.getByText(/Step 1 cashflow_analyzer: succeeded/).waitFor();
    await page.getByText(/Step 2 goal_recommender: succeeded/).waitFor();
    await page.getByRole('button', { name: 'Open output of goal_recommender' }).click();
    await eventually(() =>
      page.getByRole('region', { name: /^Output runs\// }).textContent(),
    ).toContain('Increase savings');
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });
  it('requests an exception with a product key, approves it as the owner, erases a subject', async () => {
    const product = await openPage(chromium.browser);
    await signIn(product.page, server.url, productKey, 'governance');
    await product.page.getByLabel('Title').fill('launch quota');
    await product.page.getByLabel('Duration (minutes)').fill('30');
    await product.page.getByLabel('Justification').fill('the launch week needs room');
    await product.page
      .getByLabel('Patch (RFC 6902 JSON)')
      .fill('[{"op":"replace","path":"/products/ai_avatar/quotaBytes","value":429496729600}]');
    await product.page.getByRole('button', { name: 'Request exception' }).click();
    await product.page.getByText(/pending launch quota \(ai_avatar\)/).waitFor();
    expect(await product.page.getByRole('button', { name: 'Approve launch quota' }).count()).toBe(
      0,
    );
    expect(await seriousViolations(product.page)).toEqual([]);
    await product.page.context().close();

    const { page, problems } = await openPage(chromium.browser);
    await signIn(page, server.url, server.ownerKey, 'governance');
    await page.getByLabel('Decision reason').fill('approved for the launch');
    await page.getByRole('button', { name: 'Approve launch quota' }).click();
    await page.getByText(/approved launch quota \(ai_avatar\)/).waitFor();
    const policy = await client(server.url, server.ownerKey)('GET', '/v1/governance/policy');
    expect(policy.json.document.products.ai_avatar.quotaBytes).toBe(429496729600);

    await page.getByLabel('Data subject').fill('user-42');
    await page.getByLabel('Erasure reason').fill('GDPR Art. 17 request');
    await page.getByRole('button', { name: 'Erase subject' }).click();
    const report = page.getByRole('region', { name: 'Erasure report' });
    // user-42 never had data, so no key: the report says none was destroyed.
    await eventually(() => report.textContent()).toContain('"keyFound": false');
    expect(await report.textContent()).toContain('"keyDestroyed": false');
    const id = /"id": "([^"]+)"/.exec((await report.textContent()) ?? '')?.[1] ?? '';
    await page.getByLabel('Erasure id').fill(id);
    await page.getByRole('button', { name: 'Show report' }).click();
    await eventually(() => report.textContent()).toContain('"subject": "user-42"');
    expect(await seriousViolations(page)).toEqual([]);

    // A subject with data: its erased version shows as purged, with no download offered.
    // (user_progress: governance retention, which an erasure overrides; compliance withholds.)
    const gurukul = (await createKey(server, { kind: 'product', product: 'gurukul' })).key;
    const path = '/v1/artifacts/gurukul/user_progress/subjects/user-43.json';
    const written = await client(server.url, gurukul)('PUT', path, {
      body: { hair: 'blue' },
      headers: { 'x-bucket-meta-subject': 'user-43' },
    });
    expect(written.status).toBe(201);
    const erased = await client(server.url, server.ownerKey)('POST', '/v1/governance/erasures', {
      body: { subject: 'user-43', reason: 'GDPR Art. 17 request' },
    });
    expect(erased.status).toBe(201);
    await openView(page, 'Artifacts');
    await page.getByLabel('Product', { exact: true }).selectOption('gurukul');
    await page.getByRole('cell', { name: '1 (content purged)' }).waitFor();
    await page.getByRole('button', { name: 'subjects/user-43.json' }).click();
    await page
      .getByRole('cell', { name: /^content purged \(erasure\) .*, audit entry \d+$/ })
      .waitFor();
    expect(await page.getByRole('button', { name: 'Download version 1' }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });
  it('creates a key shown once, which signs in, gets S3 credentials, and revokes it', async () => {
    const { page, problems } = await openPage(chromium.browser);
    await signIn(page, server.url, server.ownerKey, 'keys');
    await page.getByLabel('Kind').selectOption('auditor');
    await page.getByLabel('Key name').fill('console auditor');
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByText(/New key \(shown once, copy it now\)/);
    const secret = (await shown.locator('code').textContent()) ?? '';
    expect(secret).toMatch(/^bkt_/);
    const other = await openPage(chromium.browser);
    await signIn(other.page, server.url, secret);
    await eventually(() => other.page.locator('.who').textContent()).toContain('auditor');
    await other.page.context().close();
    // Its S3 credentials (SPEC §13): created with the secret shown once, listed, revoked.
    await page.getByRole('button', { name: 'S3 credentials of console auditor' }).click();
    await page.getByRole('button', { name: 'Create S3 credentials for console auditor' }).click();
    const created = page.getByText(/shown once: copy it now/);
    // allTextContents() does not wait: the credentials are shown once the server answered.
    await created.waitFor();
    const [accessKeyId = '', secretAccessKey = ''] = await created
      .locator('code')
      .allTextContents();
    expect(accessKeyId).toMatch(/^[A-Z0-9]{20}$/);
    expect(secretAccessKey).toHaveLength(40);
    await page.getByText(`S3 access keys: ${accessKeyId}`).waitFor();
    await page.getByRole('button', { name: `Revoke S3 credential ${accessKeyId}` }).click();
    await page.getByText('S3 access keys: none').waitFor();
    await page.getByRole('button', { name: 'Revoke console auditor' }).click();
    await page.getByRole('row', { name: /console auditor .* revoked/ }).waitFor();
    const refused = await client(server.url, secret)('GET', '/v1/governance/mode');
    expect(refused.status).toBe(401);
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
