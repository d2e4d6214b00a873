/**
 * The event bus (issue 17): many Server-Sent Event subscribers on one node receive a burst of
 * events; the delivery lag is the time from an event's commit (its `time`) to its arrival at each
 * subscriber, and the server's peak RSS shows that streams hold memory bounded.
 */
import { request, type IncomingMessage } from 'node:http';
import { watchPeak } from '../proc.js';
import type { Row } from '../report.js';
import { artifactPath } from '../servers.js';
import type { Suite } from '../suite.js';
import { EVENT_LAG_P99_MS } from '../targets.js';
import { uniqueBody } from './small-requests.js';

const EVENTS = 1000;
const WRITERS = 50;
const TIME = /"time":"([^"]+)"/;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

/** A subscriber: records the lag of each event until `count` have arrived. */
function subscribe(
  url: string,
  authorization: string,
  count: number,
  lags: number[],
): Promise<{ done: Promise<void>; response: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization }, agent: false });
    req.on('error', reject);
    req.on('response', (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`stream: ${response.statusCode}`));
        return;
      }
      response.setEncoding('utf8');
      let buffer = '';
      let received = 0;
      const done = new Promise<void>((finish, fail) => {
        response.on('data', (chunk: string) => {
          buffer += chunk;
          const lines = buffer.split('\n');
          buffer = lines.pop() ?? '';
          const now = Date.now();
          for (const line of lines) {
            if (!line.startsWith('data: ')) continue;
            const time = TIME.exec(line)?.[1];
            if (time) lags.push(now - Date.parse(time));
            if (++received === count) {
              response.destroy();
              finish();
            }
          }
        });
        response.on('close', () => {
          if (received < count) fail(new Error(`stream closed after ${received} events`));
        });
      });
      resolve({ done, response });
    });
    req.end();
  });
}

export const events: Suite = {
  name: 'event streams',
  async run({ profile, bucket, log }) {
    const subscribers = profile.eventSubscribers;
    const { url } = bucket.server;
    // The streams start after the newest event: the `nextCursor` of the first short page (after the
    // other suites' writes, the log holds tens of thousands of events).
    let newest = '0';
    for (;;) {
      const page = (await fetch(`${url}/v1/events?limit=1000&since=${newest}`, {
        headers: { authorization: bucket.authorization },
      }).then((answer) => answer.json())) as { events: unknown[]; nextCursor: string };
      newest = page.nextCursor;
      if (page.events.length < 1000) break;
    }
    log(`event streams: ${subscribers} subscribers, a burst of ${EVENTS} events`);
    const lags: number[] = [];
    const streams = [];
    for (let i = 0; i < subscribers; i++) {
      streams.push(
        await subscribe(
          `${url}/v1/events/stream?since=${newest}`,
          bucket.authorization,
          EVENTS,
          lags,
        ),
      );
    }
    const peak = await watchPeak(bucket.server.pid);
    const started = Date.now();
    let next = 0;
    const writer = async () => {
      while (next < EVENTS) {
        const n = next++;
        const answer = await fetch(url + artifactPath(`bench/events/${started}-${n}.bin`), {
          method: 'PUT',
          headers: {
            authorization: bucket.authorization,
            'content-type': 'application/octet-stream',
          },
          body: uniqueBody('events', n),
        });
        await answer.arrayBuffer();
        if (answer.status !== 201) throw new Error(`PUT: ${answer.status}`);
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, writer));
    await Promise.all(streams.map((stream) => stream.done));
    const seconds = (Date.now() - started) / 1000;
    const rss = await peak.stop();
    const sorted = Float64Array.from(lags).sort();
    const rows: Row[] = [
      {
        name: `SSE delivery lag p99 (${subscribers} subscribers, ${EVENTS} events)`,
        unit: 'ms',
        bucket: percentile(sorted, 0.99),
        bare: null,
        target: EVENT_LAG_P99_MS,
        details: {
          bucket: {
            subscribers,
            events: EVENTS,
            deliveries: lags.length,
            seconds,
            p50: percentile(sorted, 0.5),
            max: sorted[sorted.length - 1],
          },
        },
      },
      {
        name: `Server peak RSS with ${subscribers} event streams`,
        unit: 'MB',
        bucket: rss === null ? null : rss / 1e6,
        bare: null,
      },
    ];
    return rows;
  },
};
