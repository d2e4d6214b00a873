/**
 * One process per data directory: the embedded stores keep in-process state (group commit, the
 * head cache, write slots) that a second server on the same files would silently contradict.
 * `<dataDir>/bucket.pid` names the holder; a file left by a process that no longer runs (kill -9)
 * is taken over.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * `mkdir -p` for the data directory (mode 0700), failing where Node's own recursive mkdir spins
 * for ever: under procfs or sysfs, mkdir answers ENOENT although the parent exists, and
 * `mkdir(…, { recursive: true })` retries it at full CPU instead of failing.
 */
export async function makeDataDir(path: string): Promise<void> {
  const target = resolve(path);
  if (await createdOrThere(target)) return;
  const parent = dirname(target);
  if (parent === target) throw new Error(`cannot create the data directory ${path}`);
  await makeDataDir(parent);
  // The parent exists now: ENOENT again is an answer, not a reason to retry.
  if (!(await createdOrThere(target))) {
    throw new Error(`cannot create the data directory ${path}: mkdir answers ENOENT`);
  }
}

/** True once `path` is a directory; false when its parent is missing (ENOENT). */
async function createdOrThere(path: string): Promise<boolean> {
  try {
    await mkdir(path, { mode: 0o700 });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code !== 'EEXIST') throw error;
  }
  if (!(await stat(path)).isDirectory()) {
    throw new Error(`the data directory ${path} exists and is not a directory`);
  }
  return true;
}

export class DataDirInUseError extends Error {
  constructor(dataDir: string, pid: number) {
    super(
      `another Bucket (pid ${pid}) is running on ${dataDir}; stop it first, or set BUCKET_DATA_DIR ` +
        'to another directory',
    );
  }
}

/**
 * Whether a process of this machine is running: the one check every user of a data directory makes
 * of another process (the lock's holder, a blob temporary's writer, a lease's holder).
 */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = join(dataDir, 'bucket.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return {
        release: async () => {
          await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder !== process.pid && processRunning(holder)) {
        throw new DataDirInUseError(dataDir, holder);
      }
      await rm(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not take ${file}`);
}

/**
 * A worker of a Bucket whose primary process holds the lock (issue 21): checks that the lock
 * names that primary, and leaves releasing it to the primary.
 */
export async function sharePrimaryLock(dataDir: string, primary: number): Promise<DataDirLock> {
  const holder = Number.parseInt(
    await readFile(join(dataDir, 'bucket.pid'), 'utf8').catch(() => ''),
    10,
  );
  if (holder !== primary) {
    throw new Error(`the data directory ${dataDir} is not held by this worker's primary process`);
  }
  return { release: async () => {} };
}
