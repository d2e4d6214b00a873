/**
 * A Bucket server for end-to-end tests, in the test process: `startServer` (what `bucket serve`
 * runs) on a fresh data directory and a free port, spoken to over real HTTP. Tests whose point is
 * the process itself (kill -9, the printed owner key, several nodes) start one with
 * `startServerProcess` (./server-process.ts) instead.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BucketAdapters } from '../../src/bucket.js';
import { configFromEnv } from '../../src/config.js';
import { gateFaultFromEnv } from '../../src/gate/fault.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { EVENT_LOOP_DELAY_ENV, eventLoopDelayFromEnv } from '../../src/services/event-loop.js';
import { backendFor, type ScaleOutBackend } from './scaleout.js';

export interface ServerOptions {
  /** Reuse a data directory (restart after a stop); a new temporary one otherwise. */
  readonly dataDir?: string;
  /** The server's environment over the test process's (SPEC §12 names, BUCKET_TEST_GATE_FAULT). */
  readonly env?: Record<string, string>;
  /**
   * The shared stores of a scale-out node (another node's, to start a second node of the same
   * Bucket). In a scale-out run a server without one gets a backend of its own — or, restarted
   * on a data directory, the backend it had.
   */
  readonly backend?: ScaleOutBackend;
  /** Options of createBucket no configuration sets (in-process servers only): a small window. */
  readonly bucket?: Pick<
    BucketAdapters,
    | 'auditScanWindow'
    | 'eventHeartbeatMs'
    | 'now'
    | 'retentionSweepIntervalMs'
    | 'webhooks'
    | 'exceptionPollMs'
    | 'eventLoopDelayMs'
    | 'scrubIntervalMs'
    | 'scrubThrottle'
    | 'driftIntervalMs'
    | 'codeVersion'
    | 'core'
    | 'gate'
  >;
}

export interface TestServer {
  readonly url: string;
  /** The shared stores this node runs on (scale-out runs), else null. */
  readonly backend: ScaleOutBackend | null;
  readonly dataDir: string;
  /** The owner key generated on first start, or read from `<dataDir>/owner.key`. */
  readonly ownerKey: string;
  /** Stops the server gracefully and keeps its data directory (to restart on it). */
  stop(): Promise<void>;
  /** Stops the server and removes the data directory (and a backend of its own). */
  dispose(): Promise<void>;
}

/** What every test server is started with, before the test's own `env`. */
export function serverEnv(
  dataDir: string,
  backend: ScaleOutBackend | null,
): Record<string, string> {
  return {
    ...backend?.env,
    BUCKET_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    BUCKET_LOG_LEVEL: 'warn',
    // A test server's loop is shared with the test runner (in-process) or with a loaded machine:
    // shedding (SPEC §15) is off unless a test sets the reading (test/e2e/latency-limit.test.ts).
    [EVENT_LOOP_DELAY_ENV]: '0',
  };
}

/** A server in this process: its Bucket and app are at hand (internal APIs, route bindings). */
export interface InProcessTestServer extends TestServer {
  /** The S3 front door's URL when the test set BUCKET_S3_PORT (e.g. '0'), else null. */
  readonly s3Url: string | null;
  readonly bucket: RunningServer['bucket'];
  readonly app: RunningServer['app'];
}

export async function startTestServer(options: ServerOptions = {}): Promise<InProcessTestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'bucket-test-')));
  const { backend, ownsBackend } = await backendFor(dataDir, options);
  const env = {
    ...process.env,
    ...serverEnv(dataDir, backend),
    // Request logs would interleave with the test output; the process helper keeps `warn`.
    BUCKET_LOG_LEVEL: 'silent',
    ...options.env,
  };
  const cleanUp = async () => {
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    if (ownsBackend) await backend?.dispose();
  };
  let running: RunningServer;
  try {
    const gate = gateFaultFromEnv(env);
    running = await startServer(configFromEnv(env), {
      eventLoopDelayMs: eventLoopDelayFromEnv(env),
      ...options.bucket,
      ...(gate ? { gate } : {}),
    });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const ownerKey =
    options.env?.['BUCKET_OWNER_KEY'] ??
    running.bucket.newOwnerKey ??
    (await readFile(join(dataDir, 'owner.key'), 'utf8')).trim();
  return {
    url: running.url,
    s3Url: running.s3Url,
    backend,
    dataDir,
    ownerKey,
    bucket: running.bucket,
    app: running.app,
    stop: () => running.close(),
    async dispose() {
      await running.close();
      await cleanUp();
    },
  };
}

/** How long a `client` request may take before it fails naming itself (not a test's timeout). */
const CLIENT_TIMEOUT_MS = 60_000;

/**
 * A small JSON/bytes HTTP client bound to a server and a key. A request that gets no whole answer
 * within `timeoutMs` (default a minute) fails with its method and path, so a hung server shows
 * where a test stood rather than the test's own timeout.
 */
export function client(baseUrl: string, key?: string) {
  return async (
    method: string,
    path: string,
    init: {
      body?: unknown;
      headers?: Record<string, string>;
      raw?: boolean;
      timeoutMs?: number;
    } = {},
  ): Promise<{ status: number; headers: Headers; json: any; bytes: Buffer }> => {
    const headers: Record<string, string> = { ...init.headers };
    if (key) headers['authorization'] = `Bearer ${key}`;
    let body: string | Uint8Array | undefined;
    if (init.body instanceof Uint8Array || typeof init.body === 'string') {
      body = init.body;
    } else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const timeoutMs = init.timeoutMs ?? CLIENT_TIMEOUT_MS;
    let response: Response;
    let bytes: Buffer;
    try {
      response = await fetch(baseUrl + path, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new Error(`${method} ${path} got no answer within ${timeoutMs} ms`, { cause: error });
      }
      throw error;
    }
    let json: any = null;
    if ((response.headers.get('content-type') ?? '').includes('json') && bytes.length > 0) {
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch {
        json = null;
      }
    }
    return { status: response.status, headers: response.headers, json, bytes };
  };
}

/** Approved integrations created by `approvedIntegration`, per server and product. */
const integrationsByServer = new WeakMap<ServerAddress, Map<string, Promise<string>>>();

/** What the key and integration helpers need of a server (in-process or a process). */
export type ServerAddress = Pick<TestServer, 'url' | 'ownerKey'>;

/** A data schema that passes the compliance check of validate-integration. */
export const COMPLIANT_SCHEMA = {
  nsfw_policy: 'no adult content',
  retention_policy: 'kept as the class retention says',
};

/**
 * An approved integration of `product` declaring `classes` (default: every class the live policy
 * allows the product), created once per server and product; returns its id.
 */
export function approvedIntegration(
  server: ServerAddress,
  product: string,
  classes?: readonly string[],
): Promise<string> {
  let byProduct = integrationsByServer.get(server);
  if (!byProduct) integrationsByServer.set(server, (byProduct = new Map()));
  const cacheKey = classes ? `${product}:${[...classes].sort().join(',')}` : product;
  let pending = byProduct.get(cacheKey);
  if (!pending) {
    pending = (async () => {
      const api = client(server.url, server.ownerKey);
      let declared = classes;
      if (!declared) {
        const rules = await api('GET', '/governance/gate/product-rules');
        declared = rules.json?.products?.[product]?.allowedClasses ?? [];
      }
      const integrationId = `it-${product}-${byProduct.size}-${Math.random().toString(36).slice(2, 8)}`;
      const answer = await api('POST', '/governance/gate/validate-integration', {
        body: {
          integrationId,
          integrationType: 'api_client',
          productName: product,
          artifactClasses: declared,
          dataSchema: COMPLIANT_SCHEMA,
        },
      });
      if (answer.status !== 200) {
        throw new Error(`integration failed: ${answer.status} ${answer.bytes.toString()}`);
      }
      return integrationId;
    })();
    byProduct.set(cacheKey, pending);
  }
  return pending;
}

/**
 * Creates a key through the API with the owner key; returns the secret and its id. Product and
 * ai_agent keys get an approved integration of their product unless one is named.
 */
export async function createKey(
  server: ServerAddress,
  body: {
    kind: string;
    product?: string;
    name?: string;
    expiresAt?: string;
    integrationId?: string;
  },
): Promise<{ key: string; id: string; integrationId: string | null }> {
  const api = client(server.url, server.ownerKey);
  let integrationId = body.integrationId;
  if (
    integrationId === undefined &&
    (body.kind === 'product' || body.kind === 'ai_agent') &&
    body.product !== undefined
  ) {
    integrationId = await approvedIntegration(server, body.product);
  }
  const answer = await api('POST', '/v1/keys', {
    body: { name: 'test key', ...body, ...(integrationId ? { integrationId } : {}) },
  });
  if (answer.status !== 201) {
    throw new Error(`key creation failed: ${answer.status} ${answer.bytes.toString()}`);
  }
  return { key: answer.json.key, id: answer.json.id, integrationId: answer.json.integrationId };
}

/**
 * Raises the policy's escalation threshold out of reach (SPEC §5): tests that send many CRITICAL
 * detections on purpose (property and fuzz tests) keep their keys from being suspended after three.
 */
export async function withoutEscalation(server: ServerAddress, reason: string): Promise<void> {
  const owner = client(server.url, server.ownerKey);
  const policy = (await owner('GET', '/v1/governance/policy')).json;
  const raised = await owner('PUT', '/v1/governance/policy', {
    body: {
      document: {
        ...policy.document,
        escalation: { criticalRequests: 1_000_000, windowSeconds: 60 },
      },
      reason,
    },
  });
  if (raised.status !== 200) {
    throw new Error(
      `raising the escalation threshold: ${raised.status} ${raised.bytes.toString()}`,
    );
  }
}
