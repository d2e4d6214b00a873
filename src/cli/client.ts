/**
 * A small HTTP client for the Bucket API (SPEC §3). Bodies stay streams both ways: an upload is
 * piped into the request, a download is handed back as the response stream.
 */
import {
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type RequestOptions as NodeRequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VERSION } from '../config.js';
import type { Decision } from '../domain/decision.js';
import { CliError } from './errors.js';

/** The `error` member of every error answer (SPEC §3). */
export interface ErrorEnvelope {
  readonly code: string;
  readonly message: string;
  readonly requestId?: string;
  readonly decision?: Decision;
  readonly details?: unknown;
}

/** The Bucket answered with an error status. */
export class ServerError extends Error {
  /** What the command adds to the server's answer: a next step only it knows (printed last). */
  readonly hints: string[] = [];

  constructor(
    readonly status: number,
    readonly envelope: ErrorEnvelope,
    readonly retryAfter: string | undefined,
    /** The answer's body as received (up to the error-body limit). */
    readonly body: string = '',
  ) {
    super(envelope.message);
  }
}

/**
 * The body of an error answer that is a document of its own, not the envelope (a rejected
 * integration's verdict, an unhealthy Bucket's health): `error` is a ServerError of `status` whose
 * body `accept` recognises. Null otherwise.
 */
export function errorAnswer<T>(
  error: unknown,
  status: number,
  accept: (answer: Partial<T>) => boolean,
): T | null {
  if (!(error instanceof ServerError) || error.status !== status) return null;
  try {
    const body = JSON.parse(error.body) as Partial<T>;
    return accept(body) ? (body as T) : null;
  } catch {
    return null;
  }
}

export type Query = Record<string, string | number | undefined>;

export interface SendOptions {
  readonly headers?: OutgoingHttpHeaders;
  readonly query?: Query;
  /** A stream is piped into the request, never buffered; a string or buffer is sent as is. */
  readonly body?: Readable | string | Buffer;
}

/** Error bodies are small; anything longer is not an envelope of ours. */
const ERROR_BODY_MAX = 1024 * 1024;

/** Failures to connect at all. */
const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
};

/** Failures of an established connection. */
const CONNECTION_LOST: Record<string, string> = {
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
};

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function readText(response: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > max) {
      response.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function envelopeOf(status: number, statusMessage: string, text: string): ErrorEnvelope {
  try {
    const parsed = JSON.parse(text) as { error?: ErrorEnvelope };
    if (typeof parsed.error?.code === 'string' && typeof parsed.error.message === 'string') {
      return parsed.error;
    }
  } catch {
    // Not JSON: a proxy or something else answered; describe what came back.
  }
  const snippet = text.trim().slice(0, 200);
  return {
    code: `http_${status}`,
    message: snippet ? `${statusMessage}: ${snippet}` : statusMessage,
  };
}

export class BucketClient {
  /**
   * @param baseUrl where the Bucket listens (may carry a path prefix)
   * @param key the API key sent as `Authorization: Bearer`; null for public routes only
   * @param urlSource where `baseUrl` came from, named in connection errors
   */
  constructor(
    readonly baseUrl: URL,
    private readonly key: string | null,
    readonly urlSource: string,
  ) {}

  /** Whether requests carry a key (a client for public routes such as `/health` may have none). */
  get hasKey(): boolean {
    return this.key !== null;
  }

  url(path: string, query: Query = {}): URL {
    const base = this.baseUrl.href.endsWith('/') ? this.baseUrl.href : `${this.baseUrl.href}/`;
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  /**
   * Sends a request and resolves with the response once its status is below 400; an error
   * status becomes a {@link ServerError} carrying the server's envelope.
   */
  async send(method: string, path: string, options: SendOptions = {}): Promise<IncomingMessage> {
    const url = this.url(path, options.query);
    const requestOptions: NodeRequestOptions = {
      method,
      headers: {
        'user-agent': `bucket-cli/${VERSION}`,
        ...options.headers,
        ...(this.key !== null ? { authorization: `Bearer ${this.key}` } : {}),
      },
    };
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, requestOptions);
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      request.on('response', resolve);
      // `on`, not `once`: a write error may follow a connection error.
      request.on('error', reject);
    });
    const { body } = options;
    let uploadError: unknown;
    if (body instanceof Readable) {
      // The server may answer (413, 403, …) before it has read the whole body; the answer wins.
      pipeline(body, request).catch((error: unknown) => (uploadError ??= error));
    } else {
      request.end(body);
    }

    let response: IncomingMessage;
    try {
      response = await answered;
    } catch (error) {
      throw this.transportError(errorCode(error) === undefined ? (uploadError ?? error) : error);
    }
    const status = response.statusCode ?? 0;
    if (status < 400) return response;

    const text = await readText(response, ERROR_BODY_MAX);
    if (body instanceof Readable) body.destroy();
    request.destroy();
    const retryAfter = response.headers['retry-after'];
    throw new ServerError(
      status,
      envelopeOf(status, response.statusMessage ?? `HTTP ${status}`, text),
      retryAfter,
      text,
    );
  }

  /** Sends a request and parses its JSON answer. */
  async json<T>(method: string, path: string, options: SendOptions = {}): Promise<T> {
    return readJson<T>(await this.send(method, path, options));
  }

  private transportError(error: unknown): unknown {
    const code = errorCode(error) ?? '';
    const where = `the Bucket at ${this.baseUrl.origin} (${this.urlSource})`;
    const failedToConnect = CONNECT_ERRORS[code];
    if (failedToConnect !== undefined) {
      const hint = code === 'ECONNREFUSED' ? ' — is it running? Set BUCKET_URL or pass --url' : '';
      return new CliError(`cannot reach ${where}: ${failedToConnect}${hint}`);
    }
    const lost = CONNECTION_LOST[code];
    if (lost !== undefined) return new CliError(`lost the connection to ${where}: ${lost}`);
    return error;
  }
}

/** A header of an answer as one string ('' when absent; repeated values joined as Node does). */
export function responseHeader(response: IncomingMessage, name: string): string {
  const value = response.headers[name];
  return (Array.isArray(value) ? value.join(', ') : value) ?? '';
}

/** Reads a whole (small) JSON answer. */
export async function readJson<T>(response: IncomingMessage): Promise<T> {
  const text = await readText(response, Number.MAX_SAFE_INTEGER);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`the Bucket answered with invalid JSON: ${text.slice(0, 200)}`);
  }
}
