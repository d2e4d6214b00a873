/** Bearer-key authentication (SPEC §1): the principal comes only from the key. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BucketError } from '../domain/errors.js';
import type { KeyService } from '../services/keys.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function authenticate(keys: KeyService) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (request.routeOptions.config.public) return;
    const header = request.headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match?.[1]) {
      throw new BucketError('unauthenticated', 'send "Authorization: Bearer <key>"', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    const principal = await keys.authenticate(match[1]);
    if (!principal) {
      throw new BucketError('unauthenticated', 'the key is unknown, revoked or expired', {
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      });
    }
    request.principal = principal;
  };
}
