/**
 * An offered load the bench's own process cannot produce: `wrk` (Debian's package, C), paced by
 * its `delay()` hook on a schedule of `ratePerSecond` PUTs of 1 KiB (open loop while connections
 * are free: a request is sent when due, not when the last answer came), each to a name of its own. autocannon, in JavaScript, spends a core to offer ~7,000 requests a
 * second; on a 2-core machine whose other core the Bucket saturates, it cannot offer three times
 * what the Bucket sustains. wrk offers that on a fraction of a core.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkLoad {
  readonly url: string;
  /** Path of request n is `${pathPrefix}${n}.bin`. */
  readonly pathPrefix: string;
  readonly authorization: string;
  readonly ratePerSecond: number;
  readonly seconds: number;
  readonly timeoutSeconds: number;
}

export interface WrkResult {
  /** Requests answered, by status. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly answered: number;
  readonly timeouts: number;
  /** Connect, read and write errors. */
  readonly errors: number;
  readonly seconds: number;
  readonly connections: number;
  /** Latency percentiles of every answer (all statuses), in ms. */
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

/** Connections enough for the rate while answers take on average up to this long. */
const MEAN_ANSWER_MS = 250;
/** At most this many connections (the Bucket's and wrk's descriptors). */
const MAX_CONNECTIONS = 4000;

const SCRIPT = `
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end

local counter = 0
statuses = {}
local prefix = os.getenv("BENCH_PATH_PREFIX")
local interval = 1000 / tonumber(os.getenv("BENCH_RATE"))
local connections = tonumber(os.getenv("BENCH_CONNECTIONS"))
local start = nil
local scheduled = 0
local headers = {
  ["authorization"] = os.getenv("BENCH_AUTHORIZATION"),
  ["content-type"] = "application/octet-stream",
}
local filler = string.rep("o", 1016)
local threads = {}

function setup(thread) table.insert(threads, thread) end

request = function()
  counter = counter + 1
  local body = filler .. string.format("%08d", counter % 100000000)
  return wrk.format("PUT", prefix .. counter .. ".bin", headers, body)
end

response = function(status, _, _)
  statuses[status] = (statuses[status] or 0) + 1
end

-- Open loop: the k-th request is due at start + k × interval, whenever answers come back; a
-- connection answered early waits for its due time, one answered late sends at once.
delay = function()
  if start == nil then
    start = now_ms()
    scheduled = connections
  end
  scheduled = scheduled + 1
  local wait = start + scheduled * interval - now_ms()
  if wait < 0 then return 0 end
  return wait
end

done = function(summary, latency, _)
  local parts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      parts[#parts + 1] = string.format('"%d":%d', status, count)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"statuses":{%s},"timeouts":%d,"errors":%d,"micros":%d,"p50":%d,"p99":%d}\\n',
    table.concat(parts, ","), e.timeout, e.connect + e.read + e.write, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
`;

/** True when Debian's `wrk` is on the PATH. */
export async function wrkAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('wrk', ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    // wrk --version prints its usage and exits 1: it ran.
    child.on('exit', () => resolve(true));
  });
}

export async function runWrk(load: WrkLoad): Promise<WrkResult> {
  const connections = Math.min(
    MAX_CONNECTIONS,
    Math.max(1, Math.ceil((load.ratePerSecond * MEAN_ANSWER_MS) / 1000)),
  );
  const work = await mkdtemp(join(tmpdir(), 'bucket-bench-wrk-'));
  try {
    const script = join(work, 'put.lua');
    await writeFile(script, SCRIPT);
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        'wrk',
        [
          '-t1',
          `-c${connections}`,
          `-d${load.seconds}s`,
          `--timeout`,
          `${load.timeoutSeconds}s`,
          '-s',
          script,
          load.url,
        ],
        {
          env: {
            ...process.env,
            BENCH_PATH_PREFIX: load.pathPrefix,
            BENCH_AUTHORIZATION: load.authorization,
            BENCH_RATE: String(load.ratePerSecond),
            BENCH_CONNECTIONS: String(connections),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`)),
      );
    });
    const line = /WRK_RESULT (\{.*\})/.exec(output)?.[1];
    if (line === undefined) throw new Error(`wrk printed no result:\n${output}`);
    const parsed = JSON.parse(line) as {
      statuses: Record<string, number>;
      timeouts: number;
      errors: number;
      micros: number;
      p50: number;
      p99: number;
    };
    const answered = Object.values(parsed.statuses).reduce((sum, count) => sum + count, 0);
    return {
      statuses: parsed.statuses,
      answered,
      timeouts: parsed.timeouts,
      errors: parsed.errors,
      seconds: parsed.micros / 1e6,
      connections,
      latencyP50Ms: parsed.p50 / 1000,
      latencyP99Ms: parsed.p99 / 1000,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
