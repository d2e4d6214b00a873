/**
 * Contents kept as their parts (an S3 multipart completion, decision record 0064). A joined
 * content is stored at its address as a directory of hard links to its parts' files, named by
 * their order and size (`00001-8388608`, `00002-8388608`, …): no byte is copied or written again,
 * and a range finds its files from one listing. The links share the
 * parts' inodes, which are never written in place (a blob is written to a temporary and renamed),
 * so removing a part's own blob afterwards leaves the content whole. Readers find the files here,
 * in order, with their sizes: a whole read hashes them one after the other, a range reads the
 * files it touches.
 */
import { link, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { ContentDamagedError } from '../errors.js';
import type { ByteRange } from '../ports.js';

/** A file of a composite content and its size. */
export interface PartFile {
  readonly path: string;
  readonly size: number;
}

/**
 * A link's name: its place (five digits) and its file's size. An upload has at most 10,000
 * parts, but a part kept as its own parts brings all of its files: past MAX_FILES the join is
 * refused as EMLINK, and the store writes the joined bytes into one file instead.
 */
const PART_NAME = /^(\d{5})-(\d{1,15})$/;
const MAX_FILES = 99_999;
const nameOf = (index: number, size: number) => `${String(index + 1).padStart(5, '0')}-${size}`;

/**
 * Links the files of `sources` (stored contents), in order, into the new directory `dir`: a
 * source kept as its parts itself gives its files, in their order, numbered on (a directory is
 * never linked). Answers each source's links.
 */
export async function linkParts(dir: string, sources: readonly string[]): Promise<string[][]> {
  await mkdir(dir, { mode: 0o700 });
  const linked: string[][] = [];
  let count = 0;
  for (const source of sources) {
    const links: string[] = [];
    for (const file of await filesOf(source)) {
      if (count >= MAX_FILES) {
        throw Object.assign(new Error(`over ${MAX_FILES} files to link`), { code: 'EMLINK' });
      }
      const path = join(dir, nameOf(count++, (await stat(file)).size));
      await link(file, path);
      links.push(path);
    }
    linked.push(links);
  }
  return linked;
}

/** The files of the content stored at `path`, in order: itself, or a composite's. */
export async function filesOf(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  return (await partFiles(path)).map((file) => file.path);
}

/** The files of the composite content at `dir`, in order, with their sizes. */
export async function partFiles(dir: string): Promise<PartFile[]> {
  const files: PartFile[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const match = PART_NAME.exec(name);
    if (match) files.push({ path: join(dir, name), size: Number(match[2]) });
  }
  return files;
}

/**
 * The files of the composite content at `dir` for a read: refused (ContentDamagedError) when one
 * is missing, whose bytes would otherwise be served shifted.
 */
export async function wholeParts(dir: string): Promise<PartFile[]> {
  const files = await partFiles(dir);
  if (!complete(files)) {
    throw new ContentDamagedError('a joined content is missing some of its parts');
  }
  return files;
}

/** The bytes of `files` one after the other, or the inclusive `range` of them. */
export function compositeStream(files: readonly PartFile[], range?: ByteRange): Readable {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const first = range?.start ?? 0;
  const last = range?.end ?? total - 1;
  async function* pieces(): AsyncGenerator<Buffer> {
    let offset = 0;
    for (const file of files) {
      const start = Math.max(first, offset);
      const end = Math.min(last, offset + file.size - 1);
      offset += file.size;
      if (start > end) continue;
      const stream = createReadStream(file.path, {
        highWaterMark: 256 * 1024,
        start: start - (offset - file.size),
        end: end - (offset - file.size),
      });
      for await (const piece of stream) yield piece as Buffer;
    }
  }
  return Readable.from(pieces(), { objectMode: false });
}

/**
 * Whether the content at `path` holds its `size` bytes whole: a file of that size, or a composite
 * whose links are numbered from one without a gap and sum to it. A composite whose removal was
 * cut short (a crash in `rm -r` before decision 0064's amendment, or a hand edit) is not;
 * 'absent' when nothing is there (any more).
 */
export async function contentState(
  path: string,
  size: number,
): Promise<'whole' | 'broken' | 'absent'> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return info.size === size ? 'whole' : 'broken';
    const files = await partFiles(path);
    return complete(files) && sizeOf(files) === size ? 'whole' : 'broken';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
}

/** Whether `files` are numbered 1…n without a gap (none lost), and are at least one. */
function complete(files: readonly PartFile[]): boolean {
  return (
    files.length > 0 &&
    files.every((file, index) => basename(file.path) === nameOf(index, file.size))
  );
}

const sizeOf = (files: readonly PartFile[]) => files.reduce((sum, file) => sum + file.size, 0);

/** Removes a temporary, a file or a directory (a content at its address is moved aside first). */
export function removeTemporary(path: string): Promise<void> {
  return rm(path, { force: true, recursive: true });
}
