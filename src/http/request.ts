/** What services need to know of an HTTP request, and the request's id. */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { RequestInfo } from '../services/authorize.js';
import './types.js';

export function requestInfo(request: FastifyRequest): RequestInfo {
  if (!request.principal) throw new Error('route reached without a principal');
  return {
    requestId: request.id,
    principal: request.principal,
    query: (request.query ?? {}) as Record<string, string>,
    headerNames: Object.keys(request.headers),
  };
}

const requestIdPrefix = randomBytes(3).toString('hex');
let requestCounter = 0;

/** The id of the next request: `req_<process prefix><counter>`, unique within the process. */
export function nextRequestId(): string {
  return `req_${requestIdPrefix}${(++requestCounter).toString(36)}`;
}
