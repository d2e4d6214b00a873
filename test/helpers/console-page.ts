/**
 * Chromium pages on the console (SPEC §14), for the browser tests and the screenshot script
 * (scripts/console-screenshots.ts): Debian's /usr/bin/chromium driven by playwright-core.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env['BUCKET_TEST_CHROMIUM'] ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container Chromium has no user namespace to sandbox itself with.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/**
 * A fresh page (its own context: storage and cookies of its own) that records what the
 * Content-Security-Policy refused and every uncaught page error.
 */
export async function openPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // Generous: the whole suite runs beside it on two cores.
  page.setDefaultTimeout(40_000);
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(message.text());
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { page, problems };
}

/** Signs in with `key` on the console at `baseUrl` and waits for the navigation landmark. */
export async function signIn(page: Page, baseUrl: string, key: string, view = 'overview') {
  await page.goto(`${baseUrl}/console/#/${view}`);
  await page.getByLabel('Key', { exact: true }).fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation').waitFor();
}

/** Opens a view through its navigation link and waits for its heading. */
export async function openView(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}
