/**
 * The data directory holds inline contents, key hashes and the audit signing key: everything the
 * embedded stores create in it is for the Bucket's own user only — files 0600, folders 0700
 * (docs/THREAT_MODEL.md). The modes are given explicitly, whatever the process umask lets
 * through, and what an older installation created wider is narrowed when it is opened.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { chmod, link, mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** `mkdir -p` whose new folders are 0700, and `path` itself 0700 even if it existed. */
export async function makePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  await narrow(path, PRIVATE_DIR_MODE);
}

/** Narrows `path` to `mode`; a path that is not there, or not ours to change, is left alone. */
export async function narrow(path: string, mode: number): Promise<void> {
  try {
    await chmod(path, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM') throw error;
  }
}

/**
 * Prepares an SQLite database file before SQLite opens it: the folder 0700, the file created
 * 0600 if it is new — SQLite gives its `-wal` and `-shm` files the database file's mode — and
 * all three narrowed to 0600 if an older installation left them wider.
 */
export function preparePrivateDatabase(file: string, folder: string): void {
  mkdirSync(folder, { recursive: true, mode: PRIVATE_DIR_MODE });
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(path, PRIVATE_FILE_MODE);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EPERM') throw error;
    }
  }
}

/**
 * Publishes a new secret file (a key) at `file`, 0600, never half-written and never overwriting:
 * the bytes go to a private temp file, synced, then hard-linked into place — `link` fails when the
 * target exists, so a racing process never replaces a key and nobody reads half a file. A folder
 * created for it is 0700. Returns false when another process won the race (read its file).
 */
export async function publishPrivateFile(file: string, bytes: string | Buffer): Promise<boolean> {
  await mkdir(dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE); // the umask could only narrow the mode, but be explicit
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Writes the owner key next to the data, readable by its owner only, never half-written. */
export async function writeOwnerKeyFile(dataDir: string, key: string): Promise<void> {
  const target = join(dataDir, 'owner.key');
  const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, key + '\n', { mode: 0o600, flag: 'wx' });
  await rename(temp, target);
}
