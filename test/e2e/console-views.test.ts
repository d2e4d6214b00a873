/**
 * The web console in a real Chromium (issue 23, SPEC §14): served at /console with a strict CSP
 * and no key; sign-in per key kind with views that adapt to it; every view free of serious and
 * critical axe-core violations; the key kept in sessionStorage only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserMissing,
  eventually,
  expectKeyOnlyInSession,
  openPage,
  openView,
  seriousViolations,
  signIn,
  useBrowser,
} from '../helpers/browser.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const VIEWS = ['Overview', 'Artifacts', 'Policy', 'Keys', 'Governance', 'Audit', 'Events', 'Runs'];
const missing = browserMissing();

describe.skipIf(missing !== null)('web console views', () => {
  let server: InProcessTestServer;
  const keys: Record<string, { key: string; id: string }> = {};
  const chromium = useBrowser();

  beforeAll(async () => {
    server = await startTestServer();
    keys['owner'] = { key: server.ownerKey, id: 'key_owner' };
    for (const kind of ['executor', 'auditor', 'core'] as const) {
      keys[kind] = await createKey(server, { kind, name: `${kind} key` });
    }
    keys['product'] = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    keys['ai_agent'] = await createKey(server, { kind: 'ai_agent', product: 'ai_avatar' });
  });
  afterAll(async () => server?.dispose());

  it('serves the console without a key, with Content-Security-Policy default-src self', async () => {
    const page = await fetch(`${server.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<div id="app">');
    // Every script is a file of the Bucket's own (nothing inline, nothing from a CDN).
    expect(html).not.toMatch(/<script(?![^>]*\bsrc="\/console\/)/);
    expect(html).not.toMatch(/https?:\/\//);
    const bare = await fetch(`${server.url}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('/console/');
    const outside = await fetch(`${server.url}/console/..%2Fpackage.json`);
    expect(outside.status).toBe(404);
    expect(((await outside.json()) as any).error.code).toBe('not_found');
  });

  it('refuses a wrong key at sign-in and keeps nothing of it', async () => {
    const { page } = await openPage(chromium.browser);
    await page.goto(`${server.url}/console/`);
    await page.getByLabel('Key', { exact: true }).fill('bkt_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await eventually(() => page.getByRole('alert').textContent()).toContain('401');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.context().close();
  });

  it.each(['owner', 'executor', 'auditor', 'product', 'ai_agent', 'core'])(
    'signs in with a %s key and adapts the views to its kind',
    async (kind) => {
      const { page, problems } = await openPage(chromium.browser);
      const { key, id } = keys[kind]!;
      await signIn(page, server.url, key);
      await eventually(() => page.locator('.who').textContent()).toContain(`Signed in: ${kind}`);
      const nav = page.getByRole('navigation');
      for (const name of VIEWS) {
        await expect(nav.getByRole('link', { name, exact: true }).count()).resolves.toBe(1);
      }
      await page.getByText('normal', { exact: true }).waitFor();
      await openView(page, 'Keys');
      if (kind === 'owner') {
        await page.getByRole('button', { name: 'Create key' }).waitFor();
        // The credential routes exist whether or not the S3 door listens (SPEC §13).
        await page.getByRole('button', { name: 'S3 credentials of auditor key' }).click();
        await page.getByText('S3 access keys: none').waitFor();
      } else {
        await page.getByText('Keys are managed with the owner key.').waitFor();
      }
      await openView(page, 'Governance');
      await page.getByText(/The Bucket is normal since/).waitFor();
      const oversight = ['owner', 'executor', 'auditor'].includes(kind);
      await page
        .getByText(oversight ? 'No legal holds.' : 'Your key’s kind does not read legal holds.')
        .waitFor();
      expect(await page.getByRole('button', { name: 'Switch mode' }).count()).toBe(
        kind === 'owner' ? 1 : 0,
      );
      await openView(page, 'Artifacts');
      const products = page.getByLabel('Product', { exact: true }).locator('option');
      if (kind === 'product' || kind === 'ai_agent' || kind === 'core') {
        const own = kind === 'core' ? 'core' : 'ai_avatar';
        await eventually(() => products.allTextContents()).toEqual([own]);
        await page.getByRole('button', { name: 'Upload', exact: true }).waitFor();
      } else {
        await eventually(() => products.count()).toBeGreaterThan(1);
        await page.getByText('Uploads are made with a product or ai_agent key').waitFor();
      }
      const violations: string[] = [];
      for (const name of ['Policy', 'Audit', 'Events', 'Runs', 'Overview']) {
        await openView(page, name);
        await page.waitForLoadState('networkidle').catch(() => undefined);
        // What each kind sees differs (notes instead of tables): axe-core checks it as seen.
        violations.push(...(await seriousViolations(page)).map((v) => `${name}: ${v}`));
      }
      expect(violations).toEqual([]);
      await expectKeyOnlyInSession(page, key);
      expect(problems).toEqual([]);
      await page.context().close();
      // The console asked for nothing the kind may not do: no denial, so no threat, for the key.
      const owner = client(server.url, server.ownerKey);
      const denied = await owner('GET', `/v1/audit/entries?principal=${id}&decision=deny`);
      expect(denied.json.entries.map((e: any) => `${e.entry.operation} ${e.entry.status}`)).toEqual(
        [],
      );
    },
  );

  it('shows every view to the owner without a serious or critical axe-core violation', async () => {
    const { page, problems } = await openPage(chromium.browser);
    await signIn(page, server.url, server.ownerKey);
    const found: Record<string, string[]> = {};
    for (const name of VIEWS) {
      await openView(page, name);
      // Each view's data has arrived when nothing says it is loading any more.
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await page.waitForTimeout(150);
      found[name] = await seriousViolations(page);
    }
    expect(found).toEqual(Object.fromEntries(VIEWS.map((name) => [name, []])));
    const { page: signInPage } = await openPage(chromium.browser);
    await signInPage.goto(`${server.url}/console/`);
    expect(await seriousViolations(signInPage)).toEqual([]);
    expect(problems).toEqual([]);
    await expectKeyOnlyInSession(page, server.ownerKey);
    await page.context().close();
    await signInPage.context().close();
  });

  it('is usable by keyboard: sign in with Enter, open a view from the navigation', async () => {
    const { page } = await openPage(chromium.browser);
    await page.goto(`${server.url}/console/`);
    await page.getByLabel('Key', { exact: true }).focus();
    await page.keyboard.type(keys['auditor']!.key);
    await page.keyboard.press('Enter');
    const audit = page.getByRole('navigation').getByRole('link', { name: 'Audit', exact: true });
    await audit.focus();
    await page.keyboard.press('Enter');
    const heading = page.getByRole('heading', { level: 1, name: 'Audit' });
    await heading.waitFor();
    // The view's heading takes the focus; Tab goes on to the view's first field.
    await eventually(() =>
      heading.evaluate((h) => h === (h as any).ownerDocument.activeElement),
    ).toBe(true);
    await page.keyboard.press('Tab');
    await eventually(() =>
      page
        .getByLabel('Artifact', { exact: true })
        .evaluate((e) => e === (e as any).ownerDocument.activeElement),
    ).toBe(true);
    await page.context().close();
  });

  it('keeps the key for the tab only: a reload stays signed in, signing out forgets it', async () => {
    const { page } = await openPage(chromium.browser);
    await signIn(page, server.url, keys['auditor']!.key, 'audit');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
    await expectKeyOnlyInSession(page, keys['auditor']!.key);
    // Another tab (a new session) has no key.
    const other = await page.context().newPage();
    await other.goto(`${server.url}/console/`);
    await other.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.context().close();
  });
});
