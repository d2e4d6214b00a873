/**
 * The embedded blob store: content-addressed files. A content is written to a temporary file
 * (writers.ts), fsynced, then renamed to `<root>/sha256/<aa>/<bb>/<sha256>`; a crash before the
 * rename leaves only a temporary, which `init()` removes on the next start. Contents may also be
 * joined into a new one (an S3 multipart completion): kept as hard links to them (composite.ts)
 * and checked and hashed in a worker thread (joiner.ts), or written into a new file there where
 * links fail.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SHA256_HEX } from '../../domain/sha256.js';
import type { BlobStore, BlobWriter, ByteRange, HashedRead, JoinedContent } from '../ports.js';
import { makePrivateDir, PRIVATE_DIR_MODE } from '../private-files.js';
import {
  compositeStream,
  contentState,
  filesOf,
  linkParts,
  partFiles,
  removeTemporary,
  wholeParts,
} from './composite.js';
import { ContentDamagedError } from '../errors.js';
import { hashingReader } from './hashed-read.js';
import { joiner, type JoinOutcome } from './joiner.js';
import { processRunning } from '../data-dir-lock.js';
import { FileBlobWriter, JoinedWriter } from './writers.js';

/** Errors of a rename onto a content stored already (in another form, or a broken one). */
const STORED_ALREADY = new Set(['EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST']);

/** Errors of a file system that cannot hard-link these files: the join writes a new file. */
const LINK_REFUSED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK']);

export class FileBlobStore implements BlobStore {
  readonly kind = 'fs';
  private readonly tempDir: string;
  private readonly contentDir: string;

  constructor(readonly root: string) {
    this.tempDir = join(root, 'tmp');
    this.contentDir = join(root, 'sha256');
  }

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error('not a SHA-256 hex digest');
    return join(this.contentDir, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async init(): Promise<void> {
    await makePrivateDir(this.root);
    await makePrivateDir(this.contentDir);
    await makePrivateDir(this.tempDir);
    // Temporaries of a process that is gone (or of this one, starting again) belong to uploads
    // never acknowledged. Another live process's are its uploads in flight: with worker
    // processes over one data directory (decision 0046), a worker starting must not cut them.
    for (const name of await readdir(this.tempDir)) {
      const owner = Number(name.split('-', 1)[0]);
      if (Number.isSafeInteger(owner) && owner !== process.pid && processRunning(owner)) continue;
      await rm(join(this.tempDir, name), { recursive: true, force: true });
    }
  }

  async ping(): Promise<void> {
    await stat(this.contentDir);
  }

  async close(): Promise<void> {}

  /** Number of temporaries currently present (uploads in progress or abandoned). */
  async temporaries(): Promise<number> {
    return (await readdir(this.tempDir)).length;
  }

  async syncShardParents(finalPath: string): Promise<void> {
    const shard = join(finalPath, '..');
    await this.syncDirectory(join(shard, '..'));
    await this.syncDirectory(this.contentDir);
  }

  async syncDirectory(path: string): Promise<void> {
    const dir = await open(path, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** A new temporary's path, named by the process that writes it (init() tells whose it is). */
  private tempPathOf(): string {
    return join(this.tempDir, `${process.pid}-${randomUUID()}`);
  }

  async createWriter(): Promise<BlobWriter> {
    const tempPath = this.tempPathOf();
    const file = await open(tempPath, 'wx', 0o600);
    return new FileBlobWriter(this, file, tempPath);
  }

  /**
   * Moves a synced temporary of `size` bytes to its content's place, durably (new shard
   * directories too).
   */
  async install(tempPath: string, sha256: string, size: number): Promise<void> {
    const finalPath = this.pathOf(sha256);
    const created = await mkdir(join(finalPath, '..'), { recursive: true, mode: PRIVATE_DIR_MODE });
    // New shard directories must themselves be durable entries of their parents.
    if (created !== undefined) await this.syncShardParents(finalPath);
    // Installed as renewed: a temporary keeps the time of its last write, from before its sync,
    // which a removal racing this install (removeIfOlder with a later cutoff) would take for old.
    const now = new Date();
    await utimes(tempPath, now, now);
    for (let attempt = 1; ; attempt += 1) {
      try {
        // Same content already stored as a file: the rename replaces it with identical bytes.
        await rename(tempPath, finalPath);
        break;
      } catch (error) {
        // Stored already, one of the two a composite directory (a file and a directory, or two
        // directories, do not replace each other; an empty directory is replaced by another).
        if (!STORED_ALREADY.has((error as NodeJS.ErrnoException).code ?? '') || attempt > 3) {
          throw error;
        }
      }
      const state = await contentState(finalPath, size);
      // Renewed as a rename would, this one dropped; unless a removal took it away meanwhile (it
      // takes away only what was not renewed: see removeIfOlder).
      if (state === 'whole' && (await renewed(finalPath))) {
        await removeTemporary(tempPath);
        break;
      }
      // Broken (a removal cut short, before decision 0064 was amended): moved aside for this one.
      if (state === 'broken') {
        const aside = await this.moveAside(finalPath);
        if (aside) await removeTemporary(aside);
      }
    }
    await this.syncDirectory(join(finalPath, '..'));
  }

  /**
   * Takes the content at `path` away in one step, by renaming it into the temporaries, where it
   * is deleted: a crash midway leaves a temporary (init() removes it), never a part of a content at
   * its address. Answers where it went, or null when nothing was there.
   */
  private async moveAside(path: string): Promise<string | null> {
    const aside = this.tempPathOf();
    try {
      await rename(path, aside);
      return aside;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /**
   * Joined as a directory of hard links to the sources (composite.ts), checked and hashed in a
   * worker thread (joiner.ts) through those very links, then synced: committing only renames it.
   * Where the file system refuses the links, the worker writes the joined bytes into a new file.
   */
  async join(sources: readonly string[]): Promise<JoinedContent> {
    const tempPath = this.tempPathOf();
    const paths = sources.map((sha256) => this.pathOf(sha256));
    let outcome: JoinOutcome;
    try {
      const links = await linkParts(tempPath, paths).catch(async (error: unknown) => {
        if (!LINK_REFUSED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        await removeTemporary(tempPath);
        return null;
      });
      // Read where links are refused: a source kept as its parts is read file by file.
      const files = links ?? (await Promise.all(paths.map(filesOf)));
      const checked = files.map((paths, index) => ({ paths, sha256: sources[index] as string }));
      outcome = await joiner.join(checked, links ? null : tempPath);
      if (links && !('mismatch' in outcome)) await this.syncDirectory(tempPath);
    } catch (error) {
      await removeTemporary(tempPath);
      throw error;
    }
    if ('mismatch' in outcome) {
      await removeTemporary(tempPath);
      return outcome;
    }
    return { ...outcome, writer: new JoinedWriter(this, tempPath, outcome.sha256, outcome.size) };
  }

  async read(sha256: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(sha256);
    // Open first so that a missing content rejects here instead of erroring mid-response.
    const handle = await open(path, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      return compositeStream(await wholeParts(path), range);
    }
    return handle.createReadStream({
      highWaterMark: 256 * 1024,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
  }

  async readHashed(sha256: string): Promise<HashedRead> {
    const path = this.pathOf(sha256);
    // A missing content rejects here, as read() does, instead of failing mid-response.
    const info = await stat(path);
    if (!info.isDirectory()) return hashingReader.read([path]);
    // Links missing between others fail as a mismatch once hashed; none at all, before a byte.
    const files = await partFiles(path);
    if (files.length === 0) throw new ContentDamagedError('a joined content has no parts');
    return hashingReader.read(files.map((file) => file.path));
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await stat(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }

  async *contentsBefore(before: number): AsyncIterable<{ sha256: string; modified: number }> {
    for (const first of await listDirectory(this.contentDir)) {
      for (const second of await listDirectory(join(this.contentDir, first))) {
        for (const name of await listDirectory(join(this.contentDir, first, second))) {
          if (!SHA256_HEX.test(name)) continue;
          const info = await stat(join(this.contentDir, first, second, name)).catch(() => null);
          if (info && info.mtimeMs < before) yield { sha256: name, modified: info.mtimeMs };
        }
      }
    }
  }

  async removeIfOlder(sha256: string, before: number): Promise<boolean> {
    const path = this.pathOf(sha256);
    const info = await stat(path).catch(() => null);
    if (!info || info.mtimeMs >= before) return false;
    const aside = await this.moveAside(path);
    if (aside === null) return false;
    // A write of the same bytes (in this process or another) may have renewed it between the stat
    // and the rename: what was moved is checked again, and put back if it was.
    if ((await stat(aside)).mtimeMs >= before) {
      await rename(aside, path).catch(async (error: NodeJS.ErrnoException) => {
        // Stored again meanwhile (the address was empty for a moment): that one stays.
        if (!STORED_ALREADY.has(error.code ?? '')) throw error;
        await removeTemporary(aside);
      });
      return false;
    }
    await removeTemporary(aside);
    return true;
  }
}

/** Sets a content's modification time to now; false when it is gone (a removal took it). */
async function renewed(path: string): Promise<boolean> {
  const now = new Date();
  try {
    await utimes(path, now, now);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The entries of a directory; [] when it does not exist (nothing stored there yet). */
async function listDirectory(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
