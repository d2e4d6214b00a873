/**
 * A Bucket server inside the test process (`startServer` on a fresh data directory, a free port),
 * with its log lines captured: for HTTP behaviour that needs a real socket (framing errors,
 * disconnects) but not a process of its own.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { expect } from 'vitest';
import { configFromEnv } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { TestServer } from './server.js';

/** One pino line, parsed. */
export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface InProcessServer {
  readonly url: string;
  readonly dataDir: string;
  readonly ownerKey: string;
  readonly running: RunningServer;
  /** Every line logged so far (level debug and above). */
  logs(): LogLine[];
  /** The messages of the error-level lines logged so far (not the URLs they may carry). */
  errorMessages(): (string | undefined)[];
  /** The fields `createKey` and `approvedIntegration` (./server.js) need. */
  asTestServer(): TestServer;
  dispose(): Promise<void>;
}

export async function startInProcess(env: Record<string, string> = {}): Promise<InProcessServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bucket-inproc-'));
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  const logger = pino({ level: 'debug', base: null }, sink);
  const config = configFromEnv({ BUCKET_DATA_DIR: dataDir, PORT: '0', ...env });
  // The loop is the test runner's: no shedding unless a test asks (SPEC §15).
  const running = await startServer(config, { eventLoopDelayMs: () => 0 }, logger);
  const ownerKey = (await readFile(join(dataDir, 'owner.key'), 'utf8')).trim();
  const asServer = { url: running.url, ownerKey, dataDir } as TestServer;
  return {
    url: running.url,
    dataDir,
    ownerKey,
    running,
    logs: () => [...lines],
    errorMessages: () => lines.filter((line) => line.level >= 50).map((line) => line.msg),
    asTestServer: () => asServer,
    async dispose() {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The SPEC §3 error envelope with `code`, as an expectation. */
export function envelope(code: string) {
  return {
    error: expect.objectContaining({
      code,
      message: expect.any(String),
      requestId: expect.any(String),
    }),
  };
}
