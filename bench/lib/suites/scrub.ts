/**
 * The integrity scrub (issue 19, SPEC §9) on a Bucket of its own: many small versions (the
 * profile's audit-log size: 1M in a full run) and blobs (10 GB in a full run, 256 MB quick) are
 * stored, the foreground 1 KiB PUT and GET rates are measured idle, then again while a scrub runs
 * with its throttle (a fifth duty cycle, 32 MiB/s of content reads: docs/decisions/0035); and the
 * scrub's own duration. The "bare" column of the foreground rows holds the idle rate: the target
 * is at least 80 % of it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { measureLoad, type LoadResult } from '../load.js';
import type { Row } from '../report.js';
import { artifactPath, startScaleOutNode } from '../servers.js';
import type { Suite, SuiteContext } from '../suite.js';
import { SCRUB_FOREGROUND } from '../targets.js';
import { uniqueBody } from './small-requests.js';

const MiB = 1024 * 1024;
const BLOB_BYTES = 64 * MiB;
const FILL_CONNECTIONS = 32;

interface ScrubAnswer {
  readonly status: string;
  readonly checked: { contents: number; entries: number; versions: number };
  readonly problems: unknown[];
}

/**
 * A PUT that waits out the Bucket's own refusals while it fills (429 rates and slots, 503 while
 * the event loop is over its latency limit): the fill is set-up, not a measurement.
 */
async function put(url: string, authorization: string, body: Buffer): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const answer = await fetch(url, {
      method: 'PUT',
      headers: { authorization, 'content-type': 'application/octet-stream' },
      body,
    });
    if (answer.status === 201) return void (await answer.arrayBuffer());
    const text = await answer.text();
    if ((answer.status !== 429 && answer.status !== 503) || attempt >= 60) {
      throw new Error(`fill: ${answer.status} ${text}`);
    }
    const seconds = Number(answer.headers.get('retry-after') ?? '1');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0.1, seconds) * 1000));
  }
}

/** Stores `count` 1 KiB versions, `FILL_CONNECTIONS` at a time. */
async function fillSmall(url: string, authorization: string, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      await put(url + artifactPath(`bench/scrub/${n}.bin`), authorization, uniqueBody('scrub', n));
    }
  };
  await Promise.all(Array.from({ length: FILL_CONNECTIONS }, worker));
}

/** Stores blobs of `BLOB_BYTES` until `total` bytes, each of its own content. */
async function fillBlobs(url: string, authorization: string, total: number): Promise<number> {
  const template = Buffer.alloc(BLOB_BYTES, 0x5a);
  let stored = 0;
  for (let n = 0; stored < total; n++) {
    template.write(`blob-${n}-`, 0, 'latin1');
    await put(url + artifactPath(`bench/scrub/blob-${n}.bin`), authorization, template);
    stored += BLOB_BYTES;
  }
  return stored;
}

async function foreground(
  context: SuiteContext,
  node: { url: string; pid: number; authorization: string },
  phase: string,
  small: number,
): Promise<{ put: LoadResult; get: LoadResult }> {
  const common = {
    baseUrl: node.url,
    headers: { authorization: node.authorization },
    connections: context.profile.connections,
    seconds: context.profile.loadSeconds,
    serverPid: node.pid,
  };
  const put = await measureLoad({
    ...common,
    method: 'PUT',
    path: (n) => artifactPath(`bench/scrub/${phase}-${n}.bin`),
    body: (n) => uniqueBody(phase, n),
  });
  const get = await measureLoad({
    ...common,
    method: 'GET',
    path: (n) => artifactPath(`bench/scrub/${n % small}.bin`),
  });
  return { put, get };
}

export const scrub: Suite = {
  name: 'scrub',
  async run(context) {
    const { profile, log } = context;
    const node = await startScaleOutNode('Bucket (scrub)', {});
    await context.processes.track(node.server.pid);
    try {
      const target = { ...node, url: node.server.url, pid: node.server.pid };
      const small = profile.auditLogSize;
      const blobBytes = small >= 1_000_000 ? 10 * 1024 * MiB : 256 * MiB;
      log(`scrub: storing ${small} small versions and ${blobBytes / MiB} MiB of blobs`);
      await fillSmall(target.url, node.authorization, small);
      const stored = await fillBlobs(target.url, node.authorization, blobBytes);
      log('scrub: 1 KiB rates, idle');
      const idle = await foreground(context, target, 'idle', small);
      const owner = { authorization: `Bearer ${node.ownerKey}` };
      const started = await fetch(`${target.url}/v1/governance/scrub`, {
        method: 'POST',
        headers: owner,
      });
      const { id } = (await started.json()) as { id: string };
      const began = performance.now();
      log(`scrub: ${id} started; 1 KiB rates while it runs`);
      const during = await foreground(context, target, 'during', small);
      let answer: ScrubAnswer;
      for (;;) {
        const read = await fetch(`${target.url}/v1/governance/scrub/${id}`, { headers: owner });
        answer = (await read.json()) as ScrubAnswer;
        if (answer.status !== 'running') break;
        await sleep(1000);
      }
      const seconds = (performance.now() - began) / 1000;
      const stillRunning = seconds > 2 * profile.loadSeconds;
      const note = stillRunning ? {} : { note: 'the scrub ended before the foreground runs did' };
      const rows: Row[] = [
        {
          name: `Scrub of ${small} small versions and ${(stored / 1024 / MiB).toFixed(1)} GiB of blobs`,
          unit: 's',
          bucket: seconds,
          bare: null,
          ...(answer.status === 'passed' ? {} : { note: `scrub ${answer.status}` }),
          details: { bucket: answer },
        },
        {
          name: 'PUT 1 KiB during a scrub (bare column: idle)',
          unit: 'req/s',
          bucket: during.put.okPerSecond,
          bare: idle.put.okPerSecond,
          target: SCRUB_FOREGROUND,
          ...note,
          details: { bucket: during.put, bare: idle.put },
        },
        {
          name: 'GET 1 KiB during a scrub (bare column: idle)',
          unit: 'req/s',
          bucket: during.get.okPerSecond,
          bare: idle.get.okPerSecond,
          target: SCRUB_FOREGROUND,
          ...note,
          details: { bucket: during.get, bare: idle.get },
        },
      ];
      return rows;
    } finally {
      await context.processes.untrack(node.server.pid);
      await node.dispose();
    }
  },
};
