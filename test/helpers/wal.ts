/** Syncs of the embedded store's WAL (src/storage/sqlite/wal-sync.ts) that a test controls. */

export interface SyncCall {
  resolve(): void;
  reject(error: Error): void;
}

/** A sync function whose calls the test completes or fails one by one, in `calls`. */
export function controlledSync(): { calls: SyncCall[]; sync: () => Promise<void> } {
  const calls: SyncCall[] = [];
  const sync = () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, sync };
}

/** Whether `promise` is still unsettled after `turns` turns of the event loop. */
export async function stillPending(promise: Promise<unknown>, turns = 3): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
  return !done;
}
