/** What services need to know of an HTTP request. */
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
