/**
 * Issue 21 / SPEC §15: governed items per second through `POST /v1/batch` (batches of 50 items of
 * 1 KiB, plain and atomic) against bare Fastify's PUT requests per second, in the same run. Every
 * item is its own decision, version, audit entry and event; the batch shares the parse, the group
 * commit and the durability wait. Target: at least 1.5 × bare PUT.
 *
 * Beside it, the floor of any such item (no target): the version commits alone — each its version
 * row, head, usage, event and audit entry, 50 to a group commit — run in this process on the
 * embedded store, no HTTP, no gate, no parse (./commit-floor.ts).
 */
import { measureLoad, type LoadResult } from '../load.js';
import { measureCommitFloor } from './commit-floor.js';
import type { Row } from '../report.js';
import { artifactPath, BENCH_CLASS, BENCH_PRODUCT } from '../servers.js';
import type { Suite, SuiteContext } from '../suite.js';
import { BATCH_ITEMS_RATE } from '../targets.js';
import { problems, uniqueBody } from './small-requests.js';

const ITEMS = 50;

/** A batch of ITEMS puts of 1 KiB each, every name of its own. */
function batchBody(tag: string, n: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < ITEMS; i++) {
    lines.push(
      JSON.stringify({
        op: 'put',
        product: BENCH_PRODUCT,
        class: BENCH_CLASS,
        name: `bench/batch/${tag}-${n}-${i}.bin`,
        contentType: 'application/octet-stream',
        base64: uniqueBody(`${tag}-${n}`, i).toString('base64'),
      }),
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

async function measureBatches(context: SuiteContext, atomic: boolean): Promise<LoadResult> {
  const { profile, bucket } = context;
  const tag = atomic ? 'atomic' : 'plain';
  // One batch first, read whole: every item must be written, or the rate would count failures.
  const probe = await fetch(`${bucket.server.url}/v1/batch${atomic ? '?atomic=true' : ''}`, {
    method: 'POST',
    headers: { authorization: bucket.authorization, 'content-type': 'application/x-ndjson' },
    body: batchBody(`${tag}-probe`, 0),
  });
  const answer = (await probe.json()) as { summary?: { failed: number } };
  if (probe.status !== 200 || answer.summary?.failed !== 0) {
    throw new Error(`a ${tag} batch was not written whole: ${JSON.stringify(answer)}`);
  }
  const run = (phase: string, seconds: number) =>
    measureLoad({
      baseUrl: bucket.server.url,
      method: 'POST',
      path: () => `/v1/batch${atomic ? '?atomic=true' : ''}`,
      body: (n) => batchBody(`${tag}-${phase}`, n),
      headers: { authorization: bucket.authorization, 'content-type': 'application/x-ndjson' },
      connections: Math.max(2, Math.floor(profile.connections / 4)),
      seconds,
      serverPid: bucket.server.pid,
    });
  await run('warm', profile.warmupSeconds);
  return run('run', profile.loadSeconds);
}

async function measureBarePut(context: SuiteContext): Promise<LoadResult> {
  const { profile, bare } = context;
  const run = (phase: string, seconds: number) =>
    measureLoad({
      baseUrl: bare.url,
      method: 'PUT',
      path: (n) => artifactPath(`bench/batch-bare/${phase}-${n}.bin`),
      body: (n) => uniqueBody(`bare-${phase}`, n),
      headers: { 'content-type': 'application/octet-stream' },
      connections: profile.connections,
      seconds,
      serverPid: bare.pid,
    });
  await run('warm', profile.warmupSeconds);
  return run('run', profile.loadSeconds);
}

export const batch: Suite = {
  name: 'batch',
  async run(context) {
    const { log, profile } = context;
    log(`bare PUT 1 KiB: ${profile.connections} connections, ${profile.loadSeconds} s`);
    const bare = await measureBarePut(context);
    const rows: Row[] = [];
    for (const atomic of [false, true]) {
      const label = atomic ? 'batch atomic' : 'batch';
      log(`${label}: ${ITEMS} × 1 KiB items a request, ${profile.loadSeconds} s`);
      const result = await measureBatches(context, atomic);
      const issues = [problems(label, result), problems('bare PUT', bare)].filter(
        (issue): issue is string => issue !== null,
      );
      rows.push({
        name: `${label} items (${ITEMS} × 1 KiB) vs bare PUT`,
        unit: 'items/s',
        bucket: result.okPerSecond * ITEMS,
        bare: bare.okPerSecond,
        target: BATCH_ITEMS_RATE,
        ...(issues.length > 0 ? { note: issues.join('; ') } : {}),
        details: { bucket: result, bare },
      });
    }
    log(`batch floor: version commits alone, in-process, ${ITEMS} a group commit`);
    const floor = await measureCommitFloor(profile.loadSeconds, ITEMS);
    rows.push(
      {
        name: `batch floor: version commits alone (${ITEMS} a commit) vs bare PUT`,
        unit: 'items/s',
        bucket: floor.perSecond,
        bare: bare.okPerSecond,
        details: { bucket: floor, bare },
      },
      {
        name: 'batch floor: CPU per version commit',
        unit: 'µs',
        bucket: floor.cpuMicrosPerCommit,
        bare: null,
      },
    );
    return rows;
  },
};
