/**
 * The console's browser tests (SPEC §14): Debian's Chromium driven by playwright-core (never a
 * downloaded browser). Without /usr/bin/chromium the tests skip with the reason, except under
 * `CI=true`, where they fail (`.ci/run` installs chromium).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { CONSOLE_DIR } from '../../src/http/routes/console.js';
import { CHROMIUM, launchChromium } from './console-page.js';

export { launchChromium, openPage, openView, signIn } from './console-page.js';

const CI = process.env['CI'] === 'true';

/** Why the browser tests cannot run here (null: they can); throws under CI instead. */
export function browserMissing(): string | null {
  const missing = !existsSync(CHROMIUM)
    ? `${CHROMIUM} is missing (apt-get install chromium)`
    : !existsSync(`${CONSOLE_DIR}index.html`)
      ? 'the console is not built (npm run build)'
      : null;
  if (missing !== null && CI) throw new Error(`${missing} (CI=true: not skipping)`);
  if (missing !== null) console.warn(`skipping the console browser tests: ${missing}`);
  return missing;
}

/** One browser for the file's tests (beforeAll where it is called). */
export function useBrowser(): { readonly browser: Browser } {
  const holder: { browser: Browser | null } = { browser: null };
  beforeAll(async () => {
    holder.browser = await launchChromium();
  });
  afterAll(async () => holder.browser?.close());
  return {
    get browser() {
      if (!holder.browser) throw new Error('the browser is not started');
      return holder.browser;
    },
  };
}

const require = createRequire(import.meta.url);
let axeSource: string | null = null;

/**
 * axe-core's serious and critical violations on the page as it stands. The script goes in
 * through the DevTools protocol, which the page's CSP does not govern (an inline script would be
 * refused, as it should be).
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Once per document: the console changes views without reloading.
  if (await page.evaluate("typeof axe === 'undefined'")) await page.evaluate(axeSource);
  // A string, evaluated in the page: the test's own TypeScript knows no DOM.
  const violations: { id: string; impact: string; nodes: string[] }[] = await page.evaluate(`
    axe.run(document).then((results) =>
      results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.map((n) => String(n.target)).slice(0, 3),
      })),
    )`);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.join(', ')}`);
}

/**
 * `expect.poll` with a timeout for a browser on a busy 2-core host (its default is 1 s, and one
 * locator call may take longer than that while other suites run).
 */
export function eventually<T>(read: () => T | Promise<T>, timeout = 15_000) {
  return expect.poll(read, { timeout, interval: 100 });
}

/** What a signed-in page kept: the key must be in sessionStorage only (SPEC §14). */
export async function expectKeyOnlyInSession(page: Page, key: string): Promise<void> {
  const stored: { local: string; session: string; cookie: string } = await page.evaluate(`({
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
    cookie: document.cookie,
  })`);
  expect(stored.session).toContain(key);
  expect(stored.local).not.toContain(key);
  expect(stored.cookie).not.toContain(key);
  const cookies = await page.context().cookies();
  expect(JSON.stringify(cookies)).not.toContain(key);
}
