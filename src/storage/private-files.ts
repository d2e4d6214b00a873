/**
 * The data directory holds inline contents, key hashes and the audit signing key: everything the
 * embedded stores create in it is for the Bucket's own user only — files 0600, folders 0700
 * (docs/THREAT_MODEL.md). The modes are given explicitly, whatever the process umask lets
 * through, and what an older installation created wider is narrowed when it is opened.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';

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
