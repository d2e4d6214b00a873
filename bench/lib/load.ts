/** Request-rate measurement with autocannon: keep-alive connections, one request in flight each. */
import autocannon from 'autocannon';
import { cpuSeconds } from './proc.js';

export interface LoadSpec {
  readonly baseUrl: string;
  readonly method: 'GET' | 'PUT' | 'POST';
  /** The path of the n-th request (n counts from 0 across all connections of this run). */
  readonly path: (n: number) => string;
  /** The body of the n-th request, if any. */
  readonly body?: (n: number) => Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly seconds: number;
  /** The server's process id, to measure the CPU time it spent on this run. */
  readonly serverPid: number;
}

export interface LoadResult {
  /** Successful (2xx) answers per second: the figure the bench compares. */
  readonly okPerSecond: number;
  readonly ok: number;
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** Server CPU time (all threads) per answered request, or null when unreadable. */
  readonly serverCpuMicrosPerRequest: number | null;
  /** Answers per status code, e.g. { "201": 10234 }. */
  readonly statusCodes: Readonly<Record<string, number>>;
}

export async function measureLoad(spec: LoadSpec): Promise<LoadResult> {
  let counter = 0;
  const cpuBefore = await cpuSeconds(spec.serverPid);
  const result = await autocannon({
    url: spec.baseUrl,
    connections: spec.connections,
    duration: spec.seconds,
    method: spec.method,
    headers: { ...spec.headers },
    requests: [
      {
        // Called for every request, so every PUT gets a path (and body) of its own.
        setupRequest: (request) => {
          const n = counter++;
          return spec.body
            ? { ...request, path: spec.path(n), body: spec.body(n) }
            : { ...request, path: spec.path(n) };
        },
      },
    ],
  });
  const cpuAfter = await cpuSeconds(spec.serverPid);
  const answered = result['2xx'] + result.non2xx;
  const serverCpuMicrosPerRequest =
    cpuBefore !== null && cpuAfter !== null && answered > 0
      ? ((cpuAfter - cpuBefore) * 1e6) / answered
      : null;
  const statusCodes: Record<string, number> = {};
  for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[status] = stats.count ?? 0;
  }
  return {
    okPerSecond: result.duration > 0 ? result['2xx'] / result.duration : 0,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    serverCpuMicrosPerRequest,
    statusCodes,
  };
}
