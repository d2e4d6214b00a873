/**
 * The scale-out configuration (issue 6): nodes on PostgreSQL + Redis + an S3 server (s3rver on
 * loopback, in its own process) — 1 KiB PUT and GET rates for one node and for two nodes driven
 * together, and a large upload through S3 multipart. Everything shares this machine's cores with
 * the load generator, so the figures show the configuration's cost, not a cluster's capacity.
 * Skipped, with a note, when PostgreSQL or Redis does not answer.
 */
import { measureLoad, type LoadResult } from '../load.js';
import type { Row } from '../report.js';
import { artifactPath, startScaleOutNode, type BucketUnderTest } from '../servers.js';
import type { Suite, SuiteContext } from '../suite.js';
import { upload } from '../transfer.js';
import { problems, uniqueBody } from './small-requests.js';
import { startS3 } from '../../../test/helpers/s3.js';
import { createScaleOutBackend } from '../../../test/helpers/scaleout.js';
import { serviceAvailable } from '../../../test/helpers/services.js';

const NAMES = {
  put1: 'Scale-out PUT 1 KiB, 1 node',
  get1: 'Scale-out GET 1 KiB, 1 node',
  put2: 'Scale-out PUT 1 KiB, 2 nodes',
  get2: 'Scale-out GET 1 KiB, 2 nodes',
  upload: 'Scale-out upload via S3 multipart',
};

/** Runs the same load against every node at once; the summed rate and the first problem. */
async function together(
  context: SuiteContext,
  nodes: readonly BucketUnderTest[],
  method: 'PUT' | 'GET',
  phase: string,
  seconds: number,
): Promise<{ rate: number; results: LoadResult[]; note: string | null }> {
  const connections = Math.max(1, Math.floor(context.profile.connections / nodes.length));
  const readPath = artifactPath('bench/scale/read.bin');
  const results = await Promise.all(
    nodes.map((node, i) =>
      measureLoad({
        baseUrl: node.server.url,
        method,
        path: (n) =>
          method === 'PUT' ? artifactPath(`bench/scale/${phase}-${i}-${n}.bin`) : readPath,
        ...(method === 'PUT' ? { body: (n: number) => uniqueBody(`${phase}-${i}`, n) } : {}),
        headers: { authorization: node.authorization, 'content-type': 'application/octet-stream' },
        connections,
        seconds,
        serverPid: node.server.pid,
      }),
    ),
  );
  const note = results.map((r, i) => problems(`node ${i + 1}`, r)).find((p) => p !== null);
  return { rate: results.reduce((sum, r) => sum + r.okPerSecond, 0), results, note: note ?? null };
}

function row(
  name: string,
  measured: { rate: number; note: string | null; results: LoadResult[] },
): Row {
  return {
    name,
    unit: 'req/s',
    bucket: measured.rate,
    bare: null,
    ...(measured.note ? { note: measured.note } : {}),
    details: { bucket: measured.results },
  };
}

export const scaleOut: Suite = {
  name: 'scale-out',
  async run(context) {
    const { profile, log } = context;
    const available = (await serviceAvailable('postgres')) && (await serviceAvailable('redis'));
    if (!available) {
      return Object.values(NAMES).map((name) => ({
        name,
        unit: '',
        bucket: null,
        bare: null,
        note: 'skipped: PostgreSQL or Redis unreachable',
      }));
    }
    const s3 = await startS3();
    const backend = await createScaleOutBackend(s3.endpoint);
    const nodes: BucketUnderTest[] = [];
    try {
      const first = await startScaleOutNode('scale-out node 1', backend.env);
      nodes.push(first);
      await context.processes.track(first.server.pid);
      const seeded = await fetch(first.server.url + artifactPath('bench/scale/read.bin'), {
        method: 'PUT',
        headers: { authorization: first.authorization, 'content-type': 'application/octet-stream' },
        body: uniqueBody('read', 0),
      });
      if (seeded.status !== 201)
        throw new Error(`seeding: ${seeded.status} ${await seeded.text()}`);

      log(`scale-out: 1 node, PUT and GET 1 KiB, ${profile.loadSeconds} s each`);
      await together(context, [first], 'PUT', 'warm1', profile.warmupSeconds);
      const put1 = await together(context, [first], 'PUT', 'run1', profile.loadSeconds);
      const get1 = await together(context, [first], 'GET', 'get1', profile.loadSeconds);

      const second = await startScaleOutNode('scale-out node 2', backend.env, {
        ownerKey: first.ownerKey,
        authorization: first.authorization,
      });
      nodes.push(second);
      await context.processes.track(second.server.pid);
      log(`scale-out: 2 nodes together, PUT and GET 1 KiB, ${profile.loadSeconds} s each`);
      await together(context, nodes, 'PUT', 'warm2', profile.warmupSeconds);
      const put2 = await together(context, nodes, 'PUT', 'run2', profile.loadSeconds);
      const get2 = await together(context, nodes, 'GET', 'get2', profile.loadSeconds);

      log(`scale-out: ${profile.transferBytes / 1024 / 1024} MB upload through S3 multipart`);
      const sent = await upload(
        first.server.url + artifactPath(`bench/scale/large-${Date.now()}.bin`),
        profile.transferBytes,
        { authorization: first.authorization },
      );
      const megabytes = sent.bytes / 1e6;
      return [
        row(NAMES.put1, put1),
        row(NAMES.get1, get1),
        row(NAMES.put2, put2),
        row(NAMES.get2, get2),
        {
          name: `${NAMES.upload}, ${Math.round(sent.bytes / 1024 / 1024)} MB`,
          unit: 'MB/s',
          bucket: sent.status === 201 ? megabytes / sent.seconds : null,
          bare: null,
          ...(sent.status === 201
            ? {}
            : { note: `upload answered ${sent.status}: ${sent.answer}` }),
        },
      ];
    } finally {
      for (const node of nodes.reverse()) {
        await context.processes.untrack(node.server.pid);
        await node.dispose();
      }
      await backend.dispose();
      await s3.stop();
    }
  },
};
