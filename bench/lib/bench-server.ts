/**
 * The end of a bench-only server process (bench/noop-gate-server.ts, bench/no-outbox-server.ts):
 * print what `bucket serve` prints (the owner key, once) and stop cleanly on SIGTERM or SIGINT.
 */
import type { RunningServer } from '../../src/server.js';

export function serveUntilSignal(server: RunningServer, label: string): void {
  if (server.bucket.newOwnerKey !== null) {
    process.stdout.write(`owner key: ${server.bucket.newOwnerKey}\n`);
  }
  process.stdout.write(`Bucket (${label}, bench only) listening on ${server.url}\n`);
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
