/**
 * `/health` and `/metrics` (SPEC §4.2, §7) on an in-process server whose backends can be made to
 * fail: the metadata store failing → 503 unhealthy; the blob store failing → 200 degraded. The
 * metrics parse as Prometheus text and their counters move with traffic.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../src/config.js';
import { startServer, createLogger, type RunningServer } from '../../src/server.js';
import { FileBlobStore } from '../../src/storage/fs/blobs.js';
import { MemoryLimiter } from '../../src/storage/memory/limiter.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/metadata.js';
import { failable } from '../helpers/failable.js';
import { client, createKey, type TestServer } from '../helpers/server.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** A small parser of the Prometheus text format 0.0.4: every line is a comment or a sample. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? '';
    let consumed = 0;
    for (const pair of body.matchAll(labelPair)) {
      labels[pair[1] ?? ''] = pair[2] ?? '';
      consumed += pair[0].length;
    }
    if (consumed !== body.length) throw new Error(`bad labels: ${line}`);
    const value = Number(match[3] === '+Inf' ? Infinity : match[3]);
    if (Number.isNaN(value)) throw new Error(`bad value: ${line}`);
    samples.push({ name: match[1] ?? '', labels, value });
  }
  return samples;
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('health and metrics', () => {
  let dataDir: string;
  let server: RunningServer;
  let metadata: SqliteMetadataStore & { failing: boolean };
  let blobs: FileBlobStore & { failing: boolean };
  let limiterDown = false;
  let anonymous: ReturnType<typeof client>;
  let writer: ReturnType<typeof client>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bucket-observability-'));
    metadata = failable(new SqliteMetadataStore(join(dataDir, 'bucket.db')));
    blobs = failable(new FileBlobStore(join(dataDir, 'blobs')));
    const config = configFromEnv({ BUCKET_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    // A limiter whose rates and write slots stop answering while `limiterDown` is set.
    const memory = new MemoryLimiter();
    const limiter = new Proxy(memory, {
      get(target, property, receiver) {
        if (limiterDown && (property === 'consume' || property === 'tryAcquireWrite')) {
          return () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:6379 (test)'));
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    server = await startServer(
      config,
      { metadata, blobs, limiter, eventLoopDelayMs: () => 0 },
      createLogger('silent'),
    );
    const ownerKey = server.bucket.newOwnerKey;
    if (!ownerKey) throw new Error('no owner key');
    anonymous = client(server.url);
    const asTestServer = { url: server.url, ownerKey } as unknown as TestServer;
    writer = client(
      server.url,
      (await createKey(asTestServer, { kind: 'product', product: 'ai_assistant' })).key,
    );
  });
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is healthy with live readings of every backend', async () => {
    const answer = await anonymous('GET', '/health');
    expect(answer.status).toBe(200);
    expect(answer.json.status).toBe('healthy');
    expect(answer.json.governance.policyVersion).toBe(1);
    for (const backend of ['metadata', 'blobs', 'limiter']) {
      expect(answer.json.backends[backend].ok).toBe(true);
      expect(answer.json.backends[backend].latencyMs).toBeGreaterThanOrEqual(0);
    }
    // The audit reading is live: a decision grows the log; a checkpoint asked for is dated.
    const before = answer.json.audit.size as number;
    await writer('GET', '/v1/artifacts/ai_assistant');
    const checkpoint = await writer('GET', '/v1/audit/checkpoint');
    const later = await anonymous('GET', '/health');
    expect(later.json.audit.size).toBeGreaterThanOrEqual(before + 2);
    expect(checkpoint.json.size).toBeGreaterThanOrEqual(before + 1);
    expect(Date.parse(later.json.audit.lastCheckpointAt)).not.toBeNaN();
  });

  it('turns degraded (200) when the blob store fails, and unhealthy (503) without metadata', async () => {
    blobs.failing = true;
    try {
      const degraded = await anonymous('GET', '/health');
      expect(degraded.status).toBe(200);
      expect(degraded.json.status).toBe('degraded');
      expect(degraded.json.backends.blobs.ok).toBe(false);
      const metrics = parsePrometheus((await anonymous('GET', '/metrics')).bytes.toString());
      expect(valueOf(metrics, 'bucket_backend_up', { backend: 'blobs' })).toBe(0);
      expect(valueOf(metrics, 'bucket_backend_up', { backend: 'metadata' })).toBe(1);
    } finally {
      blobs.failing = false;
    }
    metadata.failing = true;
    try {
      const unhealthy = await anonymous('GET', '/health');
      expect(unhealthy.status).toBe(503);
      expect(unhealthy.json.status).toBe('unhealthy');
      expect(unhealthy.json.backends.metadata.ok).toBe(false);
    } finally {
      metadata.failing = false;
    }
    expect((await anonymous('GET', '/health')).json.status).toBe('healthy');
  });

  it('fails closed with 503 when the limiter does not answer, storing nothing', async () => {
    limiterDown = true;
    try {
      const path = '/v1/artifacts/ai_assistant/metadata/limiter-down.json';
      const write = await writer('PUT', path, {
        body: JSON.stringify({ down: true }),
        headers: { 'content-type': 'application/json' },
      });
      expect(write.status).toBe(503);
      expect(write.json.error.code).toBe('gate_unavailable');
      // The backend's own error (hosts, ports) stays out of the answer.
      expect(write.bytes.toString()).not.toContain('10.0.0.7');
      expect((await writer('GET', path)).status).toBe(503);
    } finally {
      limiterDown = false;
    }
    expect(
      (await writer('GET', '/v1/artifacts/ai_assistant/metadata/limiter-down.json')).status,
    ).toBe(404);
  });

  it('serves Prometheus text whose counters move with traffic', async () => {
    const scrape = async () => {
      const answer = await anonymous('GET', '/metrics');
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return parsePrometheus(answer.bytes.toString());
    };
    const before = await scrape();
    const route = '/v1/artifacts/:product/:class/*';
    const writes = 3;
    for (let i = 0; i < writes; i++) {
      await writer('PUT', `/v1/artifacts/ai_assistant/metadata/m-${i}`, {
        body: JSON.stringify({ i }),
        headers: { 'content-type': 'application/json' },
      });
    }
    await writer('GET', '/v1/artifacts/ai_assistant/metadata/m-0');
    const denied = await anonymous('GET', '/v1/artifacts/ai_assistant/metadata/m-0');
    expect(denied.status).toBe(401);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    const created = delta('bucket_http_requests_total', { route, method: 'PUT', status: '201' });
    expect(created).toBe(writes);
    expect(delta('bucket_http_requests_total', { route, method: 'GET', status: '200' })).toBe(1);
    expect(delta('bucket_http_request_duration_seconds_count', { route, method: 'PUT' })).toBe(
      writes,
    );
    expect(delta('bucket_artifact_writes_total')).toBe(writes);
    expect(delta('bucket_artifact_reads_total')).toBe(2);
    expect(delta('bucket_gate_decisions_total', { outcome: 'allow' })).toBeGreaterThanOrEqual(
      writes * 2 + 1,
    );
    expect(valueOf(after, 'bucket_artifacts', { product: 'ai_assistant' })).toBe(writes);
    expect(valueOf(after, 'bucket_stored_bytes', { product: 'ai_assistant' })).toBe(
      [0, 1, 2].reduce((sum, i) => sum + JSON.stringify({ i }).length, 0),
    );
    expect(valueOf(after, 'bucket_writes_in_flight')).toBe(0);
    // Three writes and a read by a known principal: four entries at least (the 401 has none).
    expect(delta('bucket_audit_tree_size')).toBeGreaterThanOrEqual(writes + 1);
    // Each of those, one after the other, was acknowledged after a sync of its own.
    expect(delta('bucket_metadata_syncs_total')).toBeGreaterThanOrEqual(writes + 1);
    expect(delta('bucket_metadata_sync_seconds_total')).toBeGreaterThan(0);
    expect(after.some((s) => s.name === 'bucket_threats_total' && s.labels['id'] === 'T5')).toBe(
      true,
    );
  });

  it('counts denials by rule and threats by id (recorded once per request)', async () => {
    const before = parsePrometheus((await anonymous('GET', '/metrics')).bytes.toString());
    // A server-managed field in the content: T2, denied.
    const answer = await writer('PUT', '/v1/artifacts/ai_assistant/metadata/bad', {
      body: JSON.stringify({ _id: 'x' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    const after = parsePrometheus((await anonymous('GET', '/metrics')).bytes.toString());
    expect(
      valueOf(after, 'bucket_gate_decisions_total', { outcome: 'deny' }) -
        valueOf(before, 'bucket_gate_decisions_total', { outcome: 'deny' }),
    ).toBe(1);
    expect(
      valueOf(after, 'bucket_threats_total', { id: 'T2' }) -
        valueOf(before, 'bucket_threats_total', { id: 'T2' }),
    ).toBe(1);
  });

  it('counts threats recorded outside a decision (brute force, T1)', async () => {
    const before = parsePrometheus((await anonymous('GET', '/metrics')).bytes.toString());
    const unknown = client(server.url, 'bkt_' + 'x'.repeat(40));
    for (let i = 0; i < 21; i++) await unknown('GET', '/v1/artifacts/ai_assistant');
    const after = parsePrometheus((await anonymous('GET', '/metrics')).bytes.toString());
    expect(
      valueOf(after, 'bucket_threats_total', { id: 'T1' }) -
        valueOf(before, 'bucket_threats_total', { id: 'T1' }),
    ).toBeGreaterThanOrEqual(1);
  });
});
