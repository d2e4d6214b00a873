/**
 * What a part of the write path costs end to end: the PUT 1 KiB run against a Bucket with it,
 * then the same run against a Bucket without it, both started fresh for the comparison (a Bucket
 * with tens of thousands of writes behind it — the main one, after the 1 KiB runs — is measurably
 * slower than a fresh one). Two suites: the gate (issue 3; the bench-only no-op gate,
 * bench/noop-gate-server.ts) and the event outbox (issue 17; bench/no-outbox-server.ts).
 */
import { measureLoad, type LoadResult } from '../load.js';
import {
  artifactPath,
  startBucket,
  startNoOutboxBucket,
  startNoopGateBucket,
  type BucketUnderTest,
} from '../servers.js';
import type { Suite, SuiteContext } from '../suite.js';
import type { Target } from '../report.js';
import { GATE_OVERHEAD, OUTBOX_OVERHEAD } from '../targets.js';
import { problems, uniqueBody } from './small-requests.js';

/** Warm-up, then the measured run: the settings and unique paths of the PUT 1 KiB run. */
async function measurePuts(
  context: SuiteContext,
  bucket: BucketUnderTest,
  variant: string,
): Promise<LoadResult> {
  const { profile } = context;
  const run = (phase: string, seconds: number) =>
    measureLoad({
      baseUrl: bucket.server.url,
      method: 'PUT',
      path: (n) => artifactPath(`bench/${variant}-${phase}-${n}.bin`),
      body: (n) => uniqueBody(`${variant}-${phase}`, n),
      headers: { authorization: bucket.authorization, 'content-type': 'application/octet-stream' },
      connections: profile.connections,
      seconds,
      serverPid: bucket.server.pid,
    });
  await run('warm', profile.warmupSeconds);
  return run('run', profile.loadSeconds);
}

interface Comparison {
  readonly name: string;
  /** What the Bucket has that the other lacks, e.g. "full gate". */
  readonly with: string;
  /** The other, e.g. "no-op gate". */
  readonly without: string;
  readonly startWithout: () => Promise<BucketUnderTest>;
  readonly target: Target;
}

function comparison(spec: Comparison): Suite {
  return {
    name: spec.name,
    async run(context) {
      const { profile, log } = context;
      // Both started first, so that their start-up is over before either run.
      const starts = await Promise.allSettled([startBucket(), spec.startWithout()]);
      const started = starts.flatMap((start) =>
        start.status === 'fulfilled' ? [start.value] : [],
      );
      const results: LoadResult[] = [];
      try {
        for (const start of starts) if (start.status === 'rejected') throw start.reason;
        for (const bucket of started) await context.processes.track(bucket.server.pid);
        for (const [index, label] of [spec.with, spec.without].entries()) {
          log(`PUT 1 KiB, ${label}: ${profile.connections} connections, ${profile.loadSeconds} s`);
          const bucket = started[index];
          if (bucket) results.push(await measurePuts(context, bucket, label.replace(/\W+/g, '-')));
        }
        for (const bucket of started) await context.processes.untrack(bucket.server.pid);
      } finally {
        await Promise.all(started.map((bucket) => bucket.dispose()));
      }
      const [withIt, withoutIt] = results as [LoadResult, LoadResult];
      const issues = [problems(spec.with, withIt), problems(spec.without, withoutIt)].filter(
        (issue): issue is string => issue !== null,
      );
      const note = issues.length ? { note: issues.join('; ') } : {};
      const row = (label: string, result: LoadResult) => ({
        name: `PUT 1 KiB, ${label}`,
        unit: 'req/s',
        bucket: result.okPerSecond,
        bare: null,
        ...note,
        details: { bucket: result },
      });
      return [
        row(spec.with, withIt),
        row(spec.without, withoutIt),
        {
          name: `${capitalized(spec.with)} ÷ ${spec.without} rate`,
          unit: '%',
          bucket:
            withoutIt.okPerSecond > 0 ? (withIt.okPerSecond / withoutIt.okPerSecond) * 100 : 0,
          bare: null,
          target: spec.target,
          ...note,
          details: {
            bucket: {
              serverCpuMicrosPerRequestWith: withIt.serverCpuMicrosPerRequest,
              serverCpuMicrosPerRequestWithout: withoutIt.serverCpuMicrosPerRequest,
            },
          },
        },
      ];
    },
  };
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const gateOverhead = comparison({
  name: 'gate overhead',
  with: 'full gate',
  without: 'no-op gate',
  startWithout: startNoopGateBucket,
  target: GATE_OVERHEAD,
});

export const outboxOverhead = comparison({
  name: 'outbox overhead',
  with: 'event outbox',
  without: 'no outbox',
  startWithout: startNoOutboxBucket,
  target: OUTBOX_OVERHEAD,
});
