/**
 * Whole hostile requests for the native API's fuzz tests, as `inject` options, and the SPEC §3
 * judgement of their answers: no 5xx beyond the documented 503/507 states, errors in the envelope.
 */
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { bodyArbitrary } from './fuzz-native-bodies.js';
import {
  CONTENT_TYPES,
  callerArbitrary,
  headersArbitrary,
  pathArbitrary,
  queryArbitrary,
  type Caller,
  type FuzzRoute,
} from './fuzz-native.js';

/** A whole hostile request against one route (a random method one time in ten). */
export interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly caller: Caller;
  readonly contentType: string | null;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | undefined;
}

/** Mostly the content type the route wants, else any of them or none. */
function contentTypeArbitrary(url: string): fc.Arbitrary<string | null> {
  const wanted = url.startsWith('/v1/batch') ? 'application/x-ndjson' : 'application/json';
  const other: fc.Arbitrary<string | null> = fc.option(fc.constantFrom(...CONTENT_TYPES), {
    freq: 3,
  });
  return fc.oneof({ weight: 3, arbitrary: fc.constant(wanted) }, { weight: 2, arbitrary: other });
}

/** The routes whose inputs reach the store (SPEC §3, §15). */
const DATA_ROUTE = /^\/v1\/(artifacts|batch)/;

export function requestArbitrary(routes: readonly FuzzRoute[]): fc.Arbitrary<FuzzRequest> {
  const data = routes.filter((route) => DATA_ROUTE.test(route.url));
  const request = fc
    .oneof(
      { weight: 1, arbitrary: fc.constantFrom(...routes) },
      // The artifact and batch routes are the data path: as many draws as all the others.
      { weight: 1, arbitrary: fc.constantFrom(...data) },
    )
    .chain((route) =>
      fc.record({
        method: fc.oneof(
          { weight: 9, arbitrary: fc.constant(route.method) },
          fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        ),
        path: pathArbitrary(route.url),
        query: queryArbitrary,
        caller: callerArbitrary,
        contentType: contentTypeArbitrary(route.url),
        headers: headersArbitrary,
        body: bodyArbitrary(route.fields),
      }),
    );
  // A counterexample as a reader needs it: short, a big body cut to its first bytes.
  return request.map((drawn) => ({ ...drawn, [fc.toStringMethod]: () => describeRequest(drawn) }));
}

/** A request in one line: the method, the path and query, the caller, headers and the body's head. */
export function describeRequest(request: FuzzRequest): string {
  const body =
    request.body === undefined
      ? 'none'
      : `${request.body.length} bytes ${JSON.stringify(request.body.subarray(0, 120).toString('latin1'))}`;
  const query = request.query === '' ? '' : `?${request.query.slice(0, 200)}`;
  return [
    `${request.method} ${request.path.slice(0, 300)}${query}`,
    `caller=${JSON.stringify(request.caller).slice(0, 80)}`,
    `content-type=${request.contentType}`,
    `headers=${JSON.stringify(request.headers).slice(0, 300)}`,
    `body=${body}`,
  ].join(' ');
}

/** The inject options of `request`, with `keys` naming the fuzz server's keys. */
export function injectOptions(
  request: FuzzRequest,
  keys: Readonly<Record<string, string>>,
): InjectOptions {
  const headers: Record<string, string | string[]> = { ...request.headers };
  if ('key' in request.caller) headers['authorization'] = `Bearer ${keys[request.caller.key]}`;
  else if (request.caller.authorization !== null) {
    headers['authorization'] = request.caller.authorization;
  }
  if (request.contentType !== null) headers['content-type'] = request.contentType;
  return {
    method: request.method as InjectOptions['method'],
    url: request.query === '' ? request.path : `${request.path}?${request.query}`,
    headers,
    ...(request.body !== undefined ? { payload: request.body } : {}),
  };
}

/** Where an error answer is not the SPEC §3 envelope by design, and what it is instead. */
function documentedNonEnvelope(path: string, status: number, body: any): boolean {
  // SPEC §4.2: the two validate endpoints' 403 bodies.
  if (status === 403 && path.startsWith('/governance/gate/validate-integration')) {
    return body?.decision === 'rejected';
  }
  if (status === 403 && path.startsWith('/governance/gate/validate-operation')) {
    return body?.allowed === false;
  }
  // SPEC §11: a seed run that failed answers 422 with the run; §15: an atomic batch, 409 items.
  if (status === 422 && /^\/run-(agent|basket)/.test(path)) return typeof body?.id === 'string';
  if (status === 409 && path.startsWith('/v1/batch')) return Array.isArray(body?.items);
  return false;
}

/** 5xx states a client may meet (SPEC §3, §9, §15, §2.3): modes, shedding, full stores. */
const DOCUMENTED_5XX: Record<number, readonly string[]> = {
  503: ['bucket_read_only', 'bucket_halted', 'overloaded'],
  507: ['insufficient_storage'],
};

/** What is wrong with an answer to a hostile request (SPEC §3), or null when nothing is. */
export function answerProblem(
  method: string,
  url: string,
  status: number,
  headers: Record<string, unknown>,
  text: string,
): string | null {
  let body: any = null;
  const json = /^application\/(problem\+)?json\b/.test(String(headers['content-type'] ?? ''));
  if (json && text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      return 'a JSON content type around a body that is not JSON';
    }
  }
  if (status >= 500 && !DOCUMENTED_5XX[status]?.includes(body?.error?.code)) {
    return `answered ${status} ${body?.error?.code ?? ''}`;
  }
  if (status < 400 || method === 'HEAD') return null;
  if (documentedNonEnvelope(url, status, body)) return null;
  const error = body?.error;
  const envelope =
    body !== null &&
    Object.keys(body).length === 1 &&
    typeof error?.code === 'string' &&
    /^[a-z0-9]+(_[a-z0-9]+)*$/.test(error.code) &&
    typeof error.message === 'string' &&
    error.message !== '' &&
    typeof error.requestId === 'string';
  return envelope ? null : `answered ${status} outside the SPEC §3 envelope`;
}
