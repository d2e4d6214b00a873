import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurabilityError, WalSync } from '../../../src/storage/sqlite/wal-sync.js';
import { controlledSync, stillPending } from '../../helpers/wal.js';

describe('WalSync', () => {
  it('a barrier passes once a sync started after it completes, never on an earlier one', async () => {
    const { calls, sync } = controlledSync();
    const wal = new WalSync('db-wal', sync);
    const first = wal.barrier();
    expect(calls).toHaveLength(1);
    // Arrives while the first sync runs: that sync may have started before its commit.
    const second = wal.barrier();
    const third = wal.barrier();
    expect(calls).toHaveLength(1);
    calls[0]?.resolve();
    await first;
    expect(await stillPending(second, 1)).toBe(true);
    // The two late callers share the next sync.
    expect(calls).toHaveLength(2);
    calls[1]?.resolve();
    await Promise.all([second, third]);
    expect(wal.count).toBe(2);
  });

  it('a failed sync fails its callers and every later barrier, without syncing again', async () => {
    const { calls, sync } = controlledSync();
    const wal = new WalSync('/data/bucket.db-wal', sync);
    const first = wal.barrier();
    const second = wal.barrier();
    calls[0]?.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await expect(first).rejects.toBeInstanceOf(DurabilityError);
    await expect(second).rejects.toThrow(/bucket\.db-wal could not be synced to disk.*EIO/);
    await expect(wal.barrier()).rejects.toThrow(/writes stop until the disk is checked/);
    expect(calls).toHaveLength(1);
    expect(wal.failed).toBeInstanceOf(DurabilityError);
  });

  it('close waits for the syncs running and waiting, then closes the file', async () => {
    const { calls, sync } = controlledSync();
    let closed = false;
    const wal = new WalSync('db-wal', sync, async () => {
      closed = true;
    });
    const barriers = [wal.barrier(), wal.barrier()];
    const closing = wal.close();
    calls[0]?.resolve();
    await barriers[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    expect(calls).toHaveLength(2);
    calls[1]?.resolve();
    await closing;
    await Promise.all(barriers);
    expect(closed).toBe(true);
  });

  describe('on a real file', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'bucket-walsync-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('syncs the file through one handle and leaves its bytes alone', async () => {
      const file = join(dir, 'bucket.db-wal');
      await writeFile(file, 'frames');
      const wal = WalSync.forFile(file);
      await Promise.all([wal.barrier(), wal.barrier(), wal.barrier()]);
      await wal.barrier();
      expect(wal.count).toBeGreaterThanOrEqual(2);
      await wal.close();
      expect(await readFile(file, 'utf8')).toBe('frames');
    });

    it('a missing file is a durability failure, not a pass', async () => {
      const wal = WalSync.forFile(join(dir, 'missing.db-wal'));
      await expect(wal.barrier()).rejects.toThrow(/missing\.db-wal could not be synced.*ENOENT/);
      await wal.close();
    });
  });
});
