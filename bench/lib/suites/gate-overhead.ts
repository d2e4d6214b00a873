/**
 * What the gate costs end to end (issue 3): the PUT 1 KiB run against a Bucket with its full gate,
 * then the same run against a Bucket with the bench-only no-op gate (bench/noop-gate-server.ts).
 * Both are started fresh for this comparison: a Bucket with tens of thousands of writes behind it
 * (the main one, after the 1 KiB runs) is measurably slower than a fresh one, gate or not.
 */
import { measureLoad, type LoadResult } from '../load.js';
import {
  artifactPath,
  startBucket,
  startNoopGateBucket,
  type BucketUnderTest,
} from '../servers.js';
import type { Suite, SuiteContext } from '../suite.js';
import { GATE_OVERHEAD } from '../targets.js';
import { problems, uniqueBody } from './small-requests.js';

/** Warm-up, then the measured run: the settings and unique paths of the PUT 1 KiB run. */
async function measurePuts(
  context: SuiteContext,
  bucket: BucketUnderTest,
  gate: 'full' | 'noop',
): Promise<LoadResult> {
  const { profile } = context;
  const run = (phase: string, seconds: number) =>
    measureLoad({
      baseUrl: bucket.server.url,
      method: 'PUT',
      path: (n) => artifactPath(`bench/gate/${gate}-${phase}-${n}.bin`),
      body: (n) => uniqueBody(`${gate}-${phase}`, n),
      headers: { authorization: bucket.authorization, 'content-type': 'application/octet-stream' },
      connections: profile.connections,
      seconds,
      serverPid: bucket.server.pid,
    });
  await run('warm', profile.warmupSeconds);
  return run('run', profile.loadSeconds);
}

export const gateOverhead: Suite = {
  name: 'gate overhead',
  async run(context) {
    const { profile, log } = context;
    // Both started first, so that their start-up is over before either run.
    const [fullStart, noopStart] = await Promise.allSettled([startBucket(), startNoopGateBucket()]);
    const started = [fullStart, noopStart].flatMap((start) =>
      start.status === 'fulfilled' ? [start.value] : [],
    );
    let full: LoadResult;
    let withoutGate: LoadResult;
    try {
      if (fullStart.status === 'rejected') throw fullStart.reason;
      if (noopStart.status === 'rejected') throw noopStart.reason;
      for (const bucket of started) await context.processes.track(bucket.server.pid);
      log(`PUT 1 KiB, full gate: ${profile.connections} connections, ${profile.loadSeconds} s`);
      full = await measurePuts(context, fullStart.value, 'full');
      log(`PUT 1 KiB, no-op gate: ${profile.connections} connections, ${profile.loadSeconds} s`);
      withoutGate = await measurePuts(context, noopStart.value, 'noop');
      for (const bucket of started) await context.processes.untrack(bucket.server.pid);
    } finally {
      await Promise.all(started.map((bucket) => bucket.dispose()));
    }
    const issues = [problems('full gate', full), problems('no-op gate', withoutGate)].filter(
      (issue): issue is string => issue !== null,
    );
    const note = issues.length ? { note: issues.join('; ') } : {};
    const cpu = (result: LoadResult) => result.serverCpuMicrosPerRequest;
    return [
      {
        name: 'PUT 1 KiB, full gate',
        unit: 'req/s',
        bucket: full.okPerSecond,
        bare: null,
        ...note,
        details: { bucket: full },
      },
      {
        name: 'PUT 1 KiB, no-op gate',
        unit: 'req/s',
        bucket: withoutGate.okPerSecond,
        bare: null,
        ...note,
        details: { bucket: withoutGate },
      },
      {
        name: 'Full gate ÷ no-op gate rate',
        unit: '%',
        bucket:
          withoutGate.okPerSecond > 0 ? (full.okPerSecond / withoutGate.okPerSecond) * 100 : 0,
        bare: null,
        target: GATE_OVERHEAD,
        ...note,
        details: {
          bucket: {
            serverCpuMicrosPerRequestFullGate: cpu(full),
            serverCpuMicrosPerRequestNoopGate: cpu(withoutGate),
          },
        },
      },
    ];
  },
};
