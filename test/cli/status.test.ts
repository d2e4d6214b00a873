/**
 * `bucket status`: the health of a real server without a key, its limits with one, a stopped
 * server's connection error, and — on an in-process server whose stores can be made to fail — a
 * degraded (exit 0) and an unhealthy (exit 1) Bucket, each saying what is wrong.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, VERSION } from '../../src/config.js';
import { createLogger, startServer, type RunningServer } from '../../src/server.js';
import { FileBlobStore } from '../../src/storage/fs/blobs.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/metadata.js';
import { failable } from '../helpers/failable.js';
import { createKey, startTestServer } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

const BACKEND_ROW = (role: string) => new RegExp(`^${role}\\s+\\S+\\s+ok\\s+[\\d.]+ ms$`, 'm');

describe('bucket status', () => {
  const cli = cliServer();

  it('shows a healthy server and each backend without any key (exit 0)', async () => {
    const result = await runCli(['status'], { env: { BUCKET_URL: cli.server.url } });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^status:\s+healthy$/m);
    expect(result.stdout).toMatch(
      new RegExp(`^version:\\s+${VERSION.replace(/\./g, '\\.')}$`, 'm'),
    );
    expect(result.stdout).toMatch(/^governance:\s+gate active, mode normal, policy v1$/m);
    expect(result.stdout).toMatch(/^audit log:\s+\d+ entries, last checkpoint /m);
    expect(result.stdout).toMatch(/^BACKEND\s+KIND\s+STATE\s+LATENCY$/m);
    for (const role of ['metadata', 'blobs', 'limiter']) {
      expect(result.stdout).toMatch(BACKEND_ROW(role));
    }
    // Without a key there are no limits, and the command says how to see them.
    expect(result.stdout).not.toContain('LIMIT');
    expect(result.stderr).toContain('set BUCKET_KEY (or pass --key) to see the rate');
  });

  it('with the owner key, also every limit with its reading and band', async () => {
    const env = cli.as(cli.server.ownerKey);
    const result = await runCli(['status'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^status:\s+healthy$/m);
    expect(result.stdout).toMatch(/^LIMIT\s+CURRENT\s+MAX\s+USED\s+BAND$/m);
    for (const name of ['writes_per_second', 'reads_per_second', 'concurrent_writes']) {
      expect(result.stdout).toMatch(
        new RegExp(`^${name}\\s+\\d+\\s+\\d+\\s+\\d+%\\s+(GREEN|YELLOW|ORANGE|RED)$`, 'm'),
      );
    }
    expect(result.stdout).not.toContain(cli.server.ownerKey);

    const asJson = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    expect(asJson.health).toMatchObject({ status: 'healthy', version: VERSION });
    const names = asJson.limits.map((limit: { name: string }) => limit.name);
    expect(names.slice(0, 5)).toEqual([
      'writes_per_second',
      'reads_per_second',
      'concurrent_writes',
      'storage_capacity',
      'artifacts',
    ]);
    expect(names).toEqual(expect.arrayContaining(['quota:gurukul', 'artifacts:gurukul']));
  });

  it('with a key that may not read the limits (ai_agent), shows the health and says so (exit 0)', async () => {
    const agent = await createKey(cli.server, { kind: 'ai_agent', product: 'ai_assistant' });
    const result = await runCli(['status'], {
      env: cli.as(agent.key),
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^status:\s+healthy$/m);
    expect(result.stdout).not.toContain('LIMIT');
    expect(result.stderr).toContain('this key may not read the scale limits');
  });

  it('with an unknown key, shows the health and then the 401 (exit 1)', async () => {
    const result = await runCli(['status'], {
      env: cli.as('bkt_not_a_key'),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^status:\s+healthy$/m);
    expect(result.stderr).toMatch(/^bucket: unauthenticated: /m);
    expect(result.stderr).toContain('check BUCKET_KEY');
  });

  it('a stopped server is a connection error (exit 1)', async () => {
    const stopped = await startTestServer();
    await stopped.dispose();
    const result = await runCli(['status'], { env: { BUCKET_URL: stopped.url } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^bucket: cannot reach the Bucket at http:\/\/127\.0\.0\.1:\d+ \(BUCKET_URL\): connection refused/m,
    );
  });
});

describe('bucket status on a Bucket whose stores fail', () => {
  let dataDir: string;
  let server: RunningServer;
  let metadata: SqliteMetadataStore & { failing: boolean };
  let blobs: FileBlobStore & { failing: boolean };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bucket-cli-status-'));
    metadata = failable(new SqliteMetadataStore(join(dataDir, 'bucket.db')));
    blobs = failable(new FileBlobStore(join(dataDir, 'blobs')));
    const config = configFromEnv({ BUCKET_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    server = await startServer(
      config,
      { metadata, blobs, eventLoopDelayMs: () => 0 },
      createLogger('silent'),
    );
  });
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('degraded (the blob store fails): exit 0, the failing store named', async () => {
    blobs.failing = true;
    try {
      const result = await runCli(['status'], { env: { BUCKET_URL: server.url } });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^status:\s+degraded$/m);
      expect(result.stdout).toMatch(/^BACKEND\s+KIND\s+STATE\s+LATENCY\s+ERROR$/m);
      expect(result.stdout).toMatch(
        /^blobs\s+fs\s+FAILING\s+[\d.]+ ms\s+store unavailable \(test\)$/m,
      );
      expect(result.stderr).toContain(
        'the Bucket is degraded: blobs (fs): store unavailable (test)',
      );
    } finally {
      blobs.failing = false;
    }
  });

  it('unhealthy (the metadata store fails, 503): exit 1, the health printed and what is wrong', async () => {
    metadata.failing = true;
    try {
      const result = await runCli(['status'], { env: { BUCKET_URL: server.url } });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^status:\s+unhealthy$/m);
      expect(result.stdout).toMatch(
        /^metadata\s+sqlite\s+FAILING\s+[\d.]+ ms\s+store unavailable/m,
      );
      expect(result.stderr).toMatch(
        /^bucket: the Bucket is unhealthy: metadata \(sqlite\): store unavailable \(test\)$/m,
      );

      const asJson = await runCli(['status', '--json'], { env: { BUCKET_URL: server.url } });
      expect(asJson.code).toBe(1);
      expect(JSON.parse(asJson.stdout)).toMatchObject({
        health: { status: 'unhealthy', backends: { metadata: { ok: false } } },
        limits: null,
      });
    } finally {
      metadata.failing = false;
    }
    expect((await runCli(['status'], { env: { BUCKET_URL: server.url } })).code).toBe(0);
  });
});
