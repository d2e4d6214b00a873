/**
 * Takes the screenshots of the web console in docs/console/ (SPEC §14): a fresh in-process Bucket
 * with a little data (a product's artifacts, a policy change, a legal hold, a basket run), then
 * each main view in Debian's Chromium. Run with `npm run console:screenshots` after `npm run build`.
 */
import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { launchChromium, openView, signIn } from '../test/helpers/console-page.js';
import { client, createKey, startTestServer } from '../test/helpers/server.js';

const OUT = new URL('../docs/console/', import.meta.url);

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await page.waitForTimeout(300);
  await page.screenshot({ path: new URL(`${name}.png`, OUT).pathname, fullPage: false });
  console.log(`docs/console/${name}.png`);
}

async function main(): Promise<void> {
  // The test server helper's hooks are for tests; they need it said.
  process.env['NODE_ENV'] ??= 'test';
  await mkdir(OUT, { recursive: true });
  const server = await startTestServer();
  const browser = await launchChromium();
  try {
    const owner = client(server.url, server.ownerKey);
    const product = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    await createKey(server, { kind: 'auditor', name: 'external auditor' });
    for (const [cls, name, body] of [
      ['avatar_config', 'avatars/ada.json', { hair: 'red', voice: 'alto' }],
      ['avatar_config', 'avatars/ben.json', { hair: 'black', voice: 'bass' }],
      ['persona_config', 'personas/tutor.json', { tone: 'patient' }],
    ] as const) {
      const put = await product('PUT', `/v1/artifacts/ai_avatar/${cls}/${name}`, { body });
      if (put.status >= 300) throw new Error(`seeding ${name}: ${put.status} ${put.bytes}`);
    }
    await product('PUT', '/v1/artifacts/ai_avatar/avatar_config/avatars/ada.json', {
      body: { hair: 'auburn', voice: 'alto' },
    });
    await owner('POST', '/v1/governance/holds', {
      body: {
        scope: { product: 'ai_avatar', prefix: 'avatars/' },
        caseRef: 'CASE-2026-114',
        reason: 'litigation hold',
      },
    });
    const vkey = (await owner('GET', '/v1/audit/public-key')).json.vkey as string;

    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/console/`);
    await shot(page, 'sign-in');
    await signIn(page, server.url, server.ownerKey);
    await shot(page, 'overview');

    await openView(page, 'Artifacts');
    await page.getByLabel('Product', { exact: true }).selectOption('ai_avatar');
    await page.getByRole('button', { name: 'avatars/ada.json' }).click();
    await page.getByRole('heading', { name: /^Artifact avatar_config/ }).waitFor();
    await shot(page, 'artifacts');

    await openView(page, 'Policy');
    const editor = page.getByLabel('Policy document (JSON)');
    const document = JSON.parse(await editor.inputValue());
    document.limits.maxBatch = 250;
    await editor.fill(JSON.stringify(document, null, 2));
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.getByLabel('Reason', { exact: true }).fill('smaller batches during the audit');
    await page.getByRole('list', { name: 'Changes to apply' }).scrollIntoViewIfNeeded();
    await shot(page, 'policy');

    await openView(page, 'Governance');
    await shot(page, 'governance');

    await openView(page, 'Runs');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.getByText('Run status: succeeded').waitFor();
    await page.getByRole('button', { name: 'Open output of goal_recommender' }).click();
    await shot(page, 'runs');

    await openView(page, 'Audit');
    await page
      .getByLabel('Artifact', { exact: true })
      .fill('ai_avatar/avatar_config/avatars/ada.json');
    await page.getByRole('button', { name: 'Search' }).click();
    await page
      .getByRole('button', { name: /^Entry \d+$/ })
      .first()
      .click();
    await page.getByLabel('Verifier key').fill(vkey);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.getByText('Verified', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Verify', exact: true }).scrollIntoViewIfNeeded();
    await shot(page, 'audit');

    await openView(page, 'Events');
    await page.getByText('bucket.artifact.', { exact: false }).first().waitFor();
    await shot(page, 'events');

    await openView(page, 'Keys');
    await shot(page, 'keys');
    await context.close();
  } finally {
    await browser.close();
    await server.dispose();
  }
}

await main();
