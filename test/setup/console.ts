/**
 * Builds the web console before the tests when its build is missing or older than its sources
 * (`npm run build` does it for `npm test`; a targeted `npx vitest run …` gets it here), so the
 * browser tests and the public-route probes always meet the console as it is in console/.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('../../', import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

export default async function setup(): Promise<void> {
  const built = join(root, 'dist/console/index.html');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(root, 'console'))) return;
  await build({ configFile: join(root, 'console/vite.config.ts') });
}
