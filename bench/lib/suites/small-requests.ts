/** 1 KiB PUT and GET request rates with many concurrent clients, Bucket beside bare Fastify. */
import { randomBytes } from 'node:crypto';
import { measureLoad, type LoadResult, type LoadSpec } from '../load.js';
import type { Row, Target } from '../report.js';
import { artifactPath } from '../servers.js';
import type { Suite, SuiteContext } from '../suite.js';
import { GET_RATE, PUT_RATE } from '../targets.js';

const ONE_KIB = 1024;
const BODY_TEMPLATE = randomBytes(ONE_KIB);

/** A 1 KiB body of its own for every request, so no store can shortcut a repeated content. */
export function uniqueBody(tag: string, n: number): Buffer {
  const body = Buffer.from(BODY_TEMPLATE);
  body.write(`${tag}-${n}-`, 0, 'latin1');
  return body;
}

type Server = 'bucket' | 'bare';

interface Pair {
  readonly bucket: LoadResult;
  readonly bare: LoadResult;
}

/**
 * Warms each server with a short unmeasured run, then measures it; bare first, then the Bucket,
 * with exactly the same connections, duration, paths and bodies — only the key differs.
 */
async function measurePair(
  context: SuiteContext,
  label: string,
  spec: (server: Server, phase: string) => Omit<LoadSpec, 'connections' | 'seconds' | 'serverPid'>,
): Promise<Pair> {
  const { profile, log } = context;
  const results: Partial<Record<Server, LoadResult>> = {};
  for (const server of ['bare', 'bucket'] as const) {
    const name = server === 'bare' ? 'bare Fastify' : 'Bucket';
    log(`${label}: ${name}, ${profile.connections} connections, ${profile.loadSeconds} s`);
    const serverPid = server === 'bare' ? context.bare.pid : context.bucket.server.pid;
    const common = { connections: profile.connections, serverPid };
    await measureLoad({ ...spec(server, 'warm'), ...common, seconds: profile.warmupSeconds });
    results[server] = await measureLoad({
      ...spec(server, 'run'),
      ...common,
      seconds: profile.loadSeconds,
    });
  }
  const { bucket, bare } = results;
  if (bucket === undefined || bare === undefined) throw new Error(`${label}: no result`);
  return { bucket, bare };
}

/** Non-2xx answers and connection errors of a run, or null when there were none. */
export function problems(name: string, result: LoadResult): string | null {
  if (result.non2xx === 0 && result.errors === 0) return null;
  const codes = Object.entries(result.statusCodes)
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, count]) => `${count}× ${status}`);
  return `${name}: ${[...codes, `${result.errors} connection errors`].join(', ')}`;
}

function rows(label: string, pair: Pair, target: Target): Row[] {
  const issues = [problems('bucket', pair.bucket), problems('bare', pair.bare)].filter(
    (issue): issue is string => issue !== null,
  );
  const details = { bucket: pair.bucket, bare: pair.bare };
  return [
    {
      name: `${label} throughput`,
      unit: 'req/s',
      bucket: pair.bucket.okPerSecond,
      bare: pair.bare.okPerSecond,
      target,
      ...(issues.length ? { note: issues.join('; ') } : {}),
      details,
    },
    {
      name: `${label} latency p99`,
      unit: 'ms',
      bucket: pair.bucket.latencyP99Ms,
      bare: pair.bare.latencyP99Ms,
    },
    {
      name: `${label} server CPU per request`,
      unit: 'µs',
      bucket: pair.bucket.serverCpuMicrosPerRequest,
      bare: pair.bare.serverCpuMicrosPerRequest,
    },
  ];
}

export const smallRequests: Suite = {
  name: '1 KiB requests',
  async run(context) {
    const { bucket, bare } = context;
    const baseUrl = (server: Server) => (server === 'bucket' ? bucket.server.url : bare.url);
    const auth = (server: Server): Record<string, string> =>
      server === 'bucket' ? { authorization: bucket.authorization } : {};

    const puts = await measurePair(context, 'PUT 1 KiB', (server, phase) => ({
      baseUrl: baseUrl(server),
      method: 'PUT',
      path: (n) => artifactPath(`bench/small/${phase}-${n}.bin`),
      body: (n) => uniqueBody(phase, n),
      headers: { ...auth(server), 'content-type': 'application/octet-stream' },
    }));

    const readPath = artifactPath('bench/small/read.bin');
    const seeded = await fetch(bucket.server.url + readPath, {
      method: 'PUT',
      headers: { authorization: bucket.authorization, 'content-type': 'application/octet-stream' },
      body: uniqueBody('read', 0),
    });
    if (seeded.status !== 201) {
      throw new Error(`seeding the GET artifact: ${seeded.status} ${await seeded.text()}`);
    }
    const gets = await measurePair(context, 'GET 1 KiB', (server) => ({
      baseUrl: baseUrl(server),
      method: 'GET',
      path: () => readPath,
      headers: auth(server),
    }));

    return [...rows('PUT 1 KiB', puts, PUT_RATE), ...rows('GET 1 KiB', gets, GET_RATE)];
  },
};
