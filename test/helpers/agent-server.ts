/**
 * An http agent on the loopback for Core's tests: `/echo` answers `{ok, got, key}`, `/fail` 500,
 * `/bad` an answer its schema refuses, `/redirect` 302, `/slow?ms=` after a while (counting how
 * many calls are in flight at once), `/hang` only when the test releases it. It also stands in
 * for the services of the remote built-ins: the finance service (`/finance/transactions` GET and
 * POST, `/finance/reports`), Gurukul's `/trend` and `/anomaly`, the law agent's `/<type>-query`;
 * those answer after `serviceDelayMs`.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AgentCall {
  readonly path: string;
  readonly key: string | undefined;
  readonly body: unknown;
}

export interface AgentServer {
  readonly url: string;
  readonly calls: AgentCall[];
  /** The most `/slow?ms=<ms>` calls in flight at once. */
  readonly maxInFlight: (ms: number) => number;
  /** How long the remote built-ins' services take to answer (default 0). */
  serviceDelayMs: number;
  /** Answers every held `/hang` call (and later ones at once). */
  release(): void;
  waitForCalls(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The answer of a remote built-in's service to `method path`, or null for another path. */
function serviceAnswer(method: string, path: string, body: unknown, key: string | undefined) {
  if (path === '/finance/transactions' && method === 'GET') {
    return { transactions: [{ id: 7, amount: 250, description: 'Refund', type: 'income' }] };
  }
  if (path === '/finance/transactions' && method === 'POST') {
    return { id: 8, ...(body as object), key };
  }
  if (path === '/finance/reports' && method === 'GET') return { report: 'net 250' };
  if (path === '/trend') {
    const trends = [{ student_id: 's9', subject: 'sanskrit', predicted_trend: 'rising' }];
    return { success: true, trends, got: body, key };
  }
  if (path === '/anomaly') {
    return { success: true, anomaly_report: '1 anomaly in audio', anomalies: [{ audio: 2 }] };
  }
  // The law agent's service.
  if (path.endsWith('-query')) return { ok: true, got: body, key };
  return null;
}

export async function startAgentServer(): Promise<AgentServer> {
  const calls: AgentCall[] = [];
  const held: { response: ServerResponse; body: unknown; key: string | undefined }[] = [];
  let released = false;
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const answer = (response: ServerResponse, status: number, json: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(json));
  };
  const echo = (body: unknown, key: string | undefined) => ({ ok: true, got: body, key });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://x');
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as unknown) : null;
      const key = request.headers['idempotency-key'] as string | undefined;
      calls.push({ path: url.pathname, key, body });
      switch (url.pathname) {
        case '/echo':
          return answer(response, 200, echo(body, key));
        case '/fail':
          return answer(response, 500, { error: 'boom' });
        case '/bad':
          return answer(response, 200, { wrong: 1 });
        case '/redirect':
          response.writeHead(302, { location: '/echo' });
          return response.end();
        case '/slow': {
          const ms = url.searchParams.get('ms') ?? '200';
          const now = (inFlight.get(ms) ?? 0) + 1;
          inFlight.set(ms, now);
          maxInFlight.set(ms, Math.max(maxInFlight.get(ms) ?? 0, now));
          setTimeout(() => {
            inFlight.set(ms, (inFlight.get(ms) ?? 1) - 1);
            answer(response, 200, echo(body, key));
          }, Number(ms));
          return;
        }
        case '/hang':
          if (released) return answer(response, 200, echo(body, key));
          held.push({ response, body, key });
          return;
        default: {
          const service = serviceAnswer(request.method ?? 'GET', url.pathname, body, key);
          if (service === null) return answer(response, 404, {});
          setTimeout(() => answer(response, 200, service), agentServer.serviceDelayMs);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agentServer: AgentServer = {
    url: `http://127.0.0.1:${port}`,
    calls,
    serviceDelayMs: 0,
    maxInFlight: (ms) => maxInFlight.get(String(ms)) ?? 0,
    release() {
      released = true;
      for (const { response, body, key } of held.splice(0)) answer(response, 200, echo(body, key));
    },
    async waitForCalls(count, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (calls.length < count) {
        if (Date.now() > until) throw new Error(`only ${calls.length} agent calls`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      for (const { response } of held.splice(0)) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return agentServer;
}

/** An agent_spec of the agent server's `path` (output: an object with `ok`). */
export function agentSpec(name: string, url: string, timeoutMs = 5000) {
  return {
    name,
    version: '1',
    description: `test agent ${name}`,
    kind: 'http',
    endpoint: url,
    inputSchema: { type: 'object' },
    outputSchema: { type: 'object', required: ['ok'], properties: { ok: { const: true } } },
    timeoutMs,
  };
}
