/**
 * `bucket events`: the event bus (SPEC §10) — a page of events after a cursor
 * (`GET /v1/events`), or, with --follow, the Server-Sent Event stream, resumed after the last
 * event seen whenever the connection drops (`GET /v1/events/stream`, `Last-Event-ID`).
 */
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { CloudEvent } from '../../domain/events.js';
import { ServerError, type BucketClient } from '../client.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import {
  connect,
  examples,
  nonNegativeInteger,
  positiveInteger,
  remoteOptions,
  type RemoteOptions,
} from '../remote.js';

interface EventsOptions extends RemoteOptions {
  readonly follow?: boolean;
  readonly since: number;
  readonly type?: string;
  readonly limit: number;
}

interface EventsAnswer {
  readonly events: CloudEvent[];
  readonly nextCursor: string;
}

/** How long --follow waits before resuming a stream the server ended. */
const RECONNECT_MS = 1000;

function row(event: CloudEvent): string[] {
  return [
    event.id,
    event.time,
    event.type,
    event.subject,
    event.bucketproduct ?? '-',
    event.auditindex === null ? '-' : String(event.auditindex),
  ];
}

const HEADER = ['ID', 'TIME', 'TYPE', 'SUBJECT', 'PRODUCT', 'AUDIT'];

async function page(client: BucketClient, options: EventsOptions): Promise<void> {
  const answer = await client.json<EventsAnswer>('GET', '/v1/events', {
    query: { since: options.since, limit: options.limit, type: options.type },
  });
  if (options.json) return printJson(answer);
  if (answer.events.length === 0) printLine('no events');
  else printLine(formatTable([HEADER, ...answer.events.map(row)]));
  printLine(`next: bucket events --since ${answer.nextCursor}`);
}

/** The `data:` of each Server-Sent Event of a response, as the frames arrive. */
async function* frames(response: IncomingMessage): AsyncIterable<CloudEvent> {
  let buffer = '';
  response.setEncoding('utf8');
  for await (const chunk of response as AsyncIterable<string>) {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data !== '') yield JSON.parse(data) as CloudEvent;
    }
  }
}

async function follow(client: BucketClient, options: EventsOptions): Promise<never> {
  let cursor = options.since;
  for (;;) {
    try {
      const response = await client.send('GET', '/v1/events/stream', {
        query: { type: options.type },
        headers: { 'last-event-id': String(cursor), accept: 'text/event-stream' },
      });
      for await (const event of frames(response)) {
        cursor = Number(event.id);
        if (options.json) printLine(JSON.stringify(event));
        else printLine(row(event).join('  '));
      }
    } catch (error) {
      // A refusal of this key or query is final; a connection refused or cut, a server
      // restarting (5xx) or a stream dropped because this client fell behind is not.
      if (error instanceof ServerError && error.status < 500) throw error;
      note(`stream interrupted (${(error as Error).message}); resuming after event ${cursor}`);
    }
    // The stream ended or broke (a restart, or this client fell behind): resume after cursor.
    await sleep(RECONNECT_MS);
  }
}

async function events(options: EventsOptions): Promise<void> {
  const client = connect(options);
  if (options.follow) await follow(client, options);
  else await page(client, options);
}

export function registerEvents(program: Command): void {
  const command = program
    .command('events')
    .description(
      'List the events every change announces (CloudEvents, oldest first), or --follow them as ' +
        'they happen. A product key sees its own product’s events; owner, executor and auditor ' +
        'keys see all.',
    )
    .option('--follow', 'keep streaming new events (resumes by itself after a disconnection)')
    .option('--since <n>', 'start after this event id (the cursor)', nonNegativeInteger, 0)
    .option('--type <prefix>', 'only events whose type starts with it, e.g. bucket.artifact.')
    .option('--limit <n>', 'events per page without --follow (at most 1000)', positiveInteger, 100);
  remoteOptions(command)
    .addHelpText(
      'after',
      examples(
        'bucket events',
        'bucket events --since 120 --type bucket.key.',
        'bucket events --follow --json   # one CloudEvent per line',
      ),
    )
    .action(events);
}
