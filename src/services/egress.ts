/**
 * Outgoing HTTP requests (SPEC §11 egress rules: webhooks now, http agents later): http(s) only,
 * no redirects, a bounded time and answer, and every address checked where it is connected to —
 * the name is resolved by our own `lookup`, which hands the socket only addresses the rules
 * (domain/egress.ts) allow, so a name resolving to 127.0.0.1 is refused however it is spelled,
 * and no second resolution can swap the address after the check (DNS rebinding).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { egressAllows, egressEntries, normalHost, type EgressEntry } from '../domain/egress.js';

/** A request the egress rules refuse: the reason names the host, never a secret. */
export class EgressRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EgressRefused';
  }
}

/** Resolves a host name to every address (dns.lookup's `all: true` form). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
      if (error) reject(error);
      else resolve(addresses);
    });
  });

export interface OutgoingPost {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The policy's `egress.allow` (SPEC §11). */
  readonly allow: readonly string[];
  /** The whole exchange, connection included (default 10 s). */
  readonly timeoutMs?: number | undefined;
  /** How host names are resolved (tests give names of their own). */
  readonly resolver?: Resolver | undefined;
  /** Cuts the request short (the caller is stopping). */
  readonly signal?: AbortSignal | undefined;
}

export interface OutgoingAnswer {
  readonly status: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The `lookup` of the socket: resolves, keeps only the addresses the rules allow for this host and
 * port, and refuses when none is left. Node connects to what it returns, nothing else.
 */
function checkedLookup(
  entries: readonly EgressEntry[],
  port: number,
  resolver: Resolver,
): LookupFunction {
  return (hostname, options, callback) => {
    resolver(hostname).then(
      (addresses) => {
        const permitted = addresses.filter(
          (found) =>
            (options.family === undefined ||
              options.family === 0 ||
              found.family === options.family) &&
            egressAllows(entries, hostname, port, found.address),
        );
        const first = permitted[0];
        if (!first) {
          const refused = new EgressRefused(
            `egress refused: ${hostname} resolves only to addresses that are not globally ` +
              "routable (add it to the policy's egress.allow to permit it)",
          );
          callback(refused as NodeJS.ErrnoException, '', 0);
        } else if (options.all) {
          callback(null, permitted);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

/** The target of a request, or EgressRefused. */
function target(urlText: string): URL {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new EgressRefused('egress refused: not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EgressRefused(`egress refused: ${url.protocol} is not http or https`);
  }
  if (url.username || url.password) {
    throw new EgressRefused('egress refused: credentials in the URL');
  }
  return url;
}

/**
 * POSTs `body` and resolves with the answer's status once its headers arrive; the answer's body
 * is not read (a receiver cannot make us hold it). A redirect is an answer like any other: never
 * followed. Rejects with EgressRefused, or the connection's error, or a timeout.
 */
export async function postOut(post: OutgoingPost): Promise<OutgoingAnswer> {
  const answer = await exchangeOut({ ...post, method: 'POST', maxAnswerBytes: 0 });
  return { status: answer.status };
}

export interface OutgoingRequest extends Omit<OutgoingPost, 'body'> {
  readonly method: 'GET' | 'POST';
  readonly body?: string | undefined;
  /** The answer's body is read up to this many bytes (0: not read); more is an error. */
  readonly maxAnswerBytes: number;
  readonly userAgent?: string | undefined;
}

export interface OutgoingExchange extends OutgoingAnswer {
  /** The answer's body, as far as `maxAnswerBytes` asked for it. */
  readonly body: Buffer;
}

/** The answer's body, at most `max` bytes (0: none read, the answer dropped). */
function readAnswer(response: IncomingMessage, max: number): Promise<Buffer> {
  if (max === 0) {
    response.destroy();
    return Promise.resolve(Buffer.alloc(0));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        response.destroy();
        reject(new Error(`the answer is larger than ${max} bytes`));
      } else {
        chunks.push(chunk);
      }
    });
    response.once('end', () => resolve(Buffer.concat(chunks)));
    response.once('error', reject);
    response.once('aborted', () => reject(new Error('the answer was cut off')));
  });
}

/**
 * One request under the egress rules (http agents, SPEC §11): the same checks as `postOut`,
 * with the method given and the answer's body read within `maxAnswerBytes` and the timeout.
 */
export async function exchangeOut(out: OutgoingRequest): Promise<OutgoingExchange> {
  const url = target(out.url);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = normalHost(url.hostname);
  const entries = egressEntries(out.allow);
  // An IP literal is connected to as it is (no lookup runs): check it here.
  if (isIP(host) !== 0 && !egressAllows(entries, host, port, host)) {
    throw new EgressRefused(
      `egress refused: ${host} is not globally routable (add it to the policy's egress.allow)`,
    );
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = out.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = out.signal ? AbortSignal.any([timeout, out.signal]) : timeout;
  const body = out.body ?? '';
  return new Promise<OutgoingExchange>((resolve, reject) => {
    const fail = (error: unknown) =>
      reject(timeout.aborted ? new Error(`no answer within ${timeoutMs} ms`) : error);
    const request = send(url, {
      method: out.method,
      headers: {
        ...out.headers,
        ...(out.body === undefined
          ? {}
          : {
              'content-type': 'application/json',
              'content-length': String(Buffer.byteLength(body)),
            }),
        'user-agent': out.userAgent ?? 'bhiv-bucket-webhooks',
      },
      agent: false,
      lookup: checkedLookup(entries, port, out.resolver ?? systemResolver),
      signal,
    });
    request.once('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      readAnswer(response, out.maxAnswerBytes).then(
        (answer) => resolve({ status, body: answer }),
        fail,
      );
    });
    request.once('error', fail);
    request.end(out.body);
  });
}
