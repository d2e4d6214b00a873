/**
 * docs/ARCHITECTURE.md's module map names every folder and file under src/ (issue 15): a newcomer
 * finds each module from it, and a module added without a line there fails the suite.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SRC = join(ROOT, 'src');

function moduleMap(): string {
  const text = readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const start = text.indexOf('## Module map');
  const open = text.indexOf('```', start);
  const close = text.indexOf('```', open + 3);
  if (start < 0 || open < 0 || close < 0) throw new Error('ARCHITECTURE.md has no module map');
  return text.slice(open + 3, close);
}

/** Every path under src/, relative to it, folders ending in '/'. */
function sourceTree(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const name = relative(SRC, path);
    return entry.isDirectory() ? [`${name}/`, ...sourceTree(path)] : [name];
  });
}

/**
 * The map is an indented tree: a path is named when its last segment stands in the map below a
 * line naming its folder, indented further than that line.
 */
function isNamed(map: readonly string[], path: string): boolean {
  const segments = path.endsWith('/')
    ? [...path.slice(0, -1).split('/').slice(0, -1), path.slice(0, -1).split('/').at(-1) + '/']
    : path.split('/');
  const folders = segments.slice(0, -1).map((folder) => `${folder}/`);
  const leaf = segments.at(-1) ?? '';
  let from = 0;
  let indent = -1;
  for (const folder of folders) {
    const at = map.findIndex(
      (line, index) => index >= from && indentOf(line) > indent && mentions(line, folder),
    );
    if (at < 0) return false;
    from = at;
    indent = indentOf(map[at] ?? '');
  }
  for (let index = from; index < map.length; index++) {
    const line = map[index] ?? '';
    if (index > from && indent >= 0 && line.trim() !== '' && indentOf(line) <= indent) break;
    if ((index > from || folders.length === 0) && mentions(line, leaf)) return true;
  }
  return false;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function mentions(line: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[\\s,(/])${escaped}($|[\\s,;:)])`).test(line);
}

describe('docs/ARCHITECTURE.md module map', () => {
  it('names every folder and file under src/', () => {
    const map = moduleMap().split('\n');
    const unnamed = sourceTree().filter((path) => !isNamed(map, path));
    expect(unnamed).toEqual([]);
  });
});
