/**
 * The server's environment variables have one list, SERVER_VARIABLES (src/config.ts): every name
 * src/ reads is on it (or is the CLI's, internal, or test-only), and the README's configuration
 * table and docs/OPERATIONS.md's "Environment variables" table name each of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVER_VARIABLES } from '../../../src/config.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Read by src/ but not by the server from its operator: the CLI's, the cluster's own, tests'. */
const NOT_THE_SERVERS = new Set(['BUCKET_URL', 'BUCKET_KEY', 'BUCKET_PRIMARY_PID']);
const TEST_ONLY = /^BUCKET_TEST_/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** The variable names src/ spells out as string literals. */
function namesReadBySource(): Set<string> {
  const names = new Set<string>();
  const literal = /['"`]((?:BUCKET_[A-Z0-9_]+)|HOST|PORT|[A-Z][A-Z_]*_API(?:_URL)?)['"`]/g;
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(literal)) names.add(match[1] ?? '');
  }
  return names;
}

/** The markdown table under `heading` in `file`, up to the next heading. */
function section(file: string, heading: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const start = text.indexOf(heading);
  if (start < 0) throw new Error(`${file} has no "${heading}"`);
  const end = text.indexOf('\n#', start + heading.length);
  return text.slice(start, end < 0 ? undefined : end);
}

const listed = SERVER_VARIABLES.map((variable) => variable.name);

describe('the server’s environment variables', () => {
  it('lists every variable src/ reads', () => {
    const unlisted = [...namesReadBySource()].filter(
      (name) => !listed.includes(name) && !NOT_THE_SERVERS.has(name) && !TEST_ONLY.test(name),
    );
    expect(unlisted).toEqual([]);
    // SPEC §12's pinned names among them.
    for (const name of ['BUCKET_DATA_DIR', 'PORT', 'HOST', 'BUCKET_AUDIT_KEY_FILE']) {
      expect(listed).toContain(name);
    }
  });

  it.each([
    ['README.md', '## Configuration'],
    ['docs/OPERATIONS.md', '## Environment variables'],
  ])('%s names each in its table', (file, heading) => {
    const table = section(file, heading);
    const missing = listed.filter((name) => !table.includes(`| \`${name}\``));
    expect(missing).toEqual([]);
  });
});
