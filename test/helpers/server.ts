/**
 * A real Bucket server process for end-to-end tests: `node bin/bucket.js serve` on a fresh data
 * directory and a free port. Needs the build (`npm run build`; `npm test` runs it first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  createScaleOutBackend,
  SCALE_OUT,
  saveBackend,
  savedBackendEnv,
  type ScaleOutBackend,
} from './scaleout.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUCKET_BIN = join(REPO_ROOT, 'bin', 'bucket.js');

export interface ServerOptions {
  /** Reuse a data directory (restart after a crash); a new temporary one otherwise. */
  readonly dataDir?: string;
  readonly env?: Record<string, string>;
  /**
   * The shared stores of a scale-out node (another node's, to start a second node of the same
   * Bucket). In a scale-out run a server without one gets a backend of its own — or, restarted
   * on a data directory, the backend it had.
   */
  readonly backend?: ScaleOutBackend;
  /**
   * A command the server runs under, e.g. `['strace', '-f', '-o', file]`: it is given
   * `node bin/bucket.js serve` as its last arguments. Signals then go to the server itself (its
   * pid from `<dataDir>/bucket.pid`), which the wrapper outlives by nothing.
   */
  readonly wrap?: readonly string[];
}

export interface TestServer {
  readonly url: string;
  /** The shared stores this node runs on (scale-out runs), else null. */
  readonly backend: ScaleOutBackend | null;
  readonly dataDir: string;
  /** The owner key printed on first start, or read from `<dataDir>/owner.key`. */
  readonly ownerKey: string;
  readonly process: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the process and removes the data directory. */
  dispose(): Promise<void>;
}

export async function startTestServer(options: ServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'bucket-test-')));
  let backend: ScaleOutBackend | null = options.backend ?? null;
  let ownsBackend = false;
  if (SCALE_OUT && !backend) {
    const saved = options.dataDir ? await savedBackendEnv(dataDir) : null;
    if (saved) {
      backend = { env: saved, dispose: async () => {} };
    } else {
      backend = await createScaleOutBackend();
      ownsBackend = true;
    }
  }
  if (backend) await saveBackend(dataDir, backend);
  const [command, ...wrapArgs] = options.wrap ?? [];
  const serve = [BUCKET_BIN, 'serve'];
  const child = spawn(
    command ?? process.execPath,
    command ? [...wrapArgs, process.execPath, ...serve] : serve,
    {
      env: {
        ...process.env,
        ...backend?.env,
        BUCKET_DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        BUCKET_LOG_LEVEL: 'warn',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${command ?? 'the server'}: ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  const printed = /owner key: (bkt_\S+)/.exec(output)?.[1];
  const { readFile } = await import('node:fs/promises');
  const ownerKey =
    options.env?.['BUCKET_OWNER_KEY'] ??
    printed ??
    (await readFile(join(dataDir, 'owner.key'), 'utf8')).trim();

  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) {
      if (options.wrap) {
        const pid = Number((await readFile(join(dataDir, 'bucket.pid'), 'utf8')).trim());
        process.kill(pid, signal);
      } else {
        child.kill(signal);
      }
    }
    await exited;
  };
  return {
    url,
    backend,
    dataDir,
    ownerKey,
    process: child,
    output: () => output,
    kill,
    async dispose() {
      await kill('SIGTERM');
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
      if (ownsBackend) await backend?.dispose();
    },
  };
}

/** A small JSON/bytes HTTP client bound to a server and a key. */
export function client(baseUrl: string, key?: string) {
  return async (
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; raw?: boolean } = {},
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
    const response = await fetch(baseUrl + path, { method, headers, body });
    const bytes = Buffer.from(await response.arrayBuffer());
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
const integrationsByServer = new WeakMap<TestServer, Map<string, Promise<string>>>();

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
  server: TestServer,
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
  server: TestServer,
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
