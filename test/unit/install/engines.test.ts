import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// semver ships no types of its own; these two calls are all the test needs.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
};

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

const readJson = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../${name}`, import.meta.url), 'utf8'));

const manifest = readJson('package.json') as { engines: { node: string } };
const lock = readJson('package-lock.json') as { packages: Record<string, LockedPackage> };

/** Every locked package whose declared Node range leaves out `nodeVersion`: each one is an
 * `npm ci` EBADENGINE warning (or, with engine-strict, a failed install) on that Node. */
function refusing(nodeVersion: string): string[] {
  const refused: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    if (path === '' || range === undefined) continue;
    if (!semver.satisfies(nodeVersion, range)) {
      refused.push(`${path}@${entry.version ?? '?'} wants node ${range}`);
    }
  }
  return refused;
}

describe('a clean install on the Node versions the README promises', () => {
  it('locks no package that refuses the oldest Node package.json admits', () => {
    const oldest = semver.minVersion(manifest.engines.node)?.version;
    expect(oldest).toMatch(/^20\./);
    expect(refusing(oldest ?? '')).toEqual([]);
  });

  it('locks no package that refuses the Node running this test', () => {
    expect(refusing(process.versions.node)).toEqual([]);
  });
});
