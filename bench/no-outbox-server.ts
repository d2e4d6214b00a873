/**
 * The Bucket without its event outbox, for the bench only: the same `startServer` as `bucket
 * serve` on the same embedded store, opened with `outbox: false` so that commits write no event
 * rows — the "without" of the outbox's cost (issue 17: at most 10 % of the 1 KiB write rate). Run
 * as its own process by bench/run.ts, configured like `bucket serve`; nothing in `bucket serve` or
 * its configuration can select it.
 */
import { join } from 'node:path';
import { configFromEnv } from '../src/config.js';
import { startServer } from '../src/server.js';
import { serveUntilSignal } from './lib/bench-server.js';
import { SqliteMetadataStore } from '../src/storage/sqlite/metadata.js';

const config = configFromEnv(process.env);
const metadata = new SqliteMetadataStore(join(config.dataDir, 'bucket.db'), { outbox: false });
const server = await startServer(config, { metadata });
serveUntilSignal(server, 'no outbox');
