/**
 * Policy exceptions (SPEC §9): a product key (for its own product) or the owner requests one; the
 * owner approves or rejects it; owner, executor and auditor list all, a product key its own. The
 * mechanism, its checks and the expiry are in services/exceptions.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { MAX_EXCEPTION_MINUTES, type PolicyException } from '../../domain/exceptions.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(type: T) =>
  Type.Union([type, Type.Null()]);

const ExceptionView = Type.Object({
  id: Type.String(),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('approved'),
    Type.Literal('rejected'),
    Type.Literal('expired'),
  ]),
  title: Type.String(),
  justification: Type.String(),
  patch: Type.Array(Type.Unknown()),
  durationMinutes: Type.Integer(),
  product: Nullable(Type.String()),
  requestedBy: Type.String(),
  requestedAt: Type.String(),
  decidedBy: Nullable(Type.String()),
  decidedAt: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  policyVersion: Type.Union([Type.Integer(), Type.Null()]),
  expiresAt: Nullable(Type.String()),
  revertVersion: Type.Union([Type.Integer(), Type.Null()]),
  expiredAt: Nullable(Type.String()),
});

/** The answer: everything but the stored reverse patch (an implementation detail, 0032). */
function view(exception: PolicyException) {
  const { revertPatch: _revertPatch, ...shown } = exception;
  return { ...shown, patch: [...shown.patch] };
}

const Decision = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Type.String({ maxLength: 100 }) });

export const exceptionRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      '/v1/governance/exceptions',
      {
        config: { action: 'exceptions.request' },
        schema: {
          tags: ['governance'],
          summary: 'Request a time-boxed policy exception (a product key, or the owner)',
          description:
            'The patch (RFC 6902) is checked against the live policy at once: one that does ' +
            'not apply, makes an invalid policy or breaks a floor is refused (400 ' +
            'invalid_exception, naming the floor). Only the owner’s approval applies it.',
          body: Type.Object(
            {
              title: Type.String({ minLength: 1, maxLength: 200 }),
              justification: Type.String({ minLength: 1, maxLength: 4000 }),
              patch: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 100 }),
              durationMinutes: Type.Integer({ minimum: 1, maximum: MAX_EXCEPTION_MINUTES }),
            },
            { additionalProperties: false },
          ),
          response: { 201: ExceptionView, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const exception = await bucket.exceptions.request(
          request.body,
          requestInfo(request).principal,
          request.allowedAction?.entry ?? undefined,
        );
        return reply.code(201).send(view(exception));
      },
    );

    app.get(
      '/v1/governance/exceptions',
      {
        config: { action: 'exceptions.list' },
        schema: {
          tags: ['governance'],
          summary: 'Exceptions, the newest first (owner, executor, auditor; a product key its own)',
          response: {
            200: Type.Object({ exceptions: Type.Array(ExceptionView) }),
            ...errorResponses(401, 403),
          },
        },
      },
      async (request) => {
        const { principal } = requestInfo(request);
        const product = principal.kind === 'product' ? (principal.product ?? '') : undefined;
        return { exceptions: (await bucket.exceptions.list(product)).map(view) };
      },
    );

    for (const verb of ['approve', 'reject'] as const) {
      app.post(
        `/v1/governance/exceptions/:id/${verb}`,
        {
          config: { action: `exceptions.${verb}` },
          schema: {
            tags: ['governance'],
            summary:
              verb === 'approve'
                ? 'Approve: the patch becomes a policy version until expiresAt (owner)'
                : 'Reject a pending exception (owner)',
            params: Params,
            body: Decision,
            response: { 200: ExceptionView, ...errorResponses(400, 401, 403, 404, 409) },
          },
        },
        async (request) => {
          const by = requestInfo(request).principal.id;
          const entry = request.allowedAction?.entry ?? undefined;
          const { id } = request.params;
          const { reason } = request.body;
          return view(
            verb === 'approve'
              ? await bucket.exceptions.approve(id, reason, by, entry)
              : await bucket.exceptions.reject(id, reason, by, entry),
          );
        },
      );
    }
  };
