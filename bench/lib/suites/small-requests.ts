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

function ratioOf(pair: Pair): number {
  return pair.bare.okPerSecond > 0 ? pair.bucket.okPerSecond / pair.bare.okPerSecond : 0;
}

/**
 * Measures the bare server and the Bucket back to back, `profile.rateRounds` times, each run
 * after a short unmeasured one so both are JIT-warm, with exactly the same connections, duration,
 * paths and bodies — only the key differs. Returns the round with the median ratio, and all of
 * them: on a shared machine the speed drifts between runs, and a pair measured moments apart
 * compares the two servers on the same machine.
 */
async function measurePair(
  context: SuiteContext,
  label: string,
  spec: (server: Server, phase: string) => Omit<LoadSpec, 'connections' | 'seconds' | 'serverPid'>,
): Promise<Pair & { rounds: Pair[] }> {
  const { profile, log } = context;
  const rounds: Pair[] = [];
  for (let round = 1; round <= profile.rateRounds; round++) {
    const results: Partial<Record<Server, LoadResult>> = {};
    for (const server of ['bare', 'bucket'] as const) {
      const name = server === 'bare' ? 'bare Fastify' : 'Bucket';
      log(
        `${label}, round ${round}/${profile.rateRounds}: ${name}, ` +
          `${profile.connections} connections, ${profile.loadSeconds} s`,
      );
      const serverPid = server === 'bare' ? context.bare.pid : context.bucket.server.pid;
      const common = { connections: profile.connections, serverPid };
      // Phases are named per round, so that every PUT of the run has a path of its own.
      const phase = `r${round}`;
      await measureLoad({
        ...spec(server, `${phase}-warm`),
        ...common,
        seconds: profile.warmupSeconds,
      });
      results[server] = await measureLoad({
        ...spec(server, `${phase}-run`),
        ...common,
        seconds: profile.loadSeconds,
      });
    }
    const { bucket, bare } = results;
    if (bucket === undefined || bare === undefined) throw new Error(`${label}: no result`);
    rounds.push({ bucket, bare });
    log(
      `${label}, round ${round}: ${bucket.okPerSecond.toFixed(0)} vs ` +
        `${bare.okPerSecond.toFixed(0)} req/s (${(ratioOf({ bucket, bare }) * 100).toFixed(0)} %)`,
    );
  }
  const sorted = [...rounds].sort((a, b) => ratioOf(a) - ratioOf(b));
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error(`${label}: no round`);
  return { ...median, rounds };
}

/** Non-2xx answers and connection errors of a run, or null when there were none. */
export function problems(name: string, result: LoadResult): string | null {
  if (result.non2xx === 0 && result.errors === 0) return null;
  const codes = Object.entries(result.statusCodes)
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, count]) => `${count}× ${status}`);
  return `${name}: ${[...codes, `${result.errors} connection errors`].join(', ')}`;
}

function rows(label: string, pair: Pair & { rounds: Pair[] }, target: Target): Row[] {
  // Failed requests in any round make the figure suspect, not only in the round reported.
  const issues = pair.rounds
    .flatMap((round) => [problems('bucket', round.bucket), problems('bare', round.bare)])
    .filter((issue): issue is string => issue !== null);
  const details = {
    bucket: pair.bucket,
    bare: pair.bare,
    rounds: pair.rounds.map((round) => ({
      bucket: round.bucket.okPerSecond,
      bare: round.bare.okPerSecond,
      ratio: ratioOf(round),
    })),
  };
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
