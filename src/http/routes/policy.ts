/**
 * The policy API (SPEC §2): the live document, its replacement by the owner, its history with a
 * diff per version, and the owner's restore of a stored version (the repair of an unusable one).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import type { PolicyVersion } from '../../domain/policy.js';
import type { ExceptionMark } from '../../services/policies.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

const LivePolicy = Type.Object({
  version: Type.Integer(),
  hash: Type.String({ description: 'SHA-256 (hex) of the RFC 8785 canonical document' }),
  document: Type.Any(),
});

const PolicyUpdateAnswer = Type.Object({
  ...LivePolicy.properties,
  changed: Type.Boolean({
    description:
      'false when the document was already the live one: no version was made, and the answer ' +
      'is the live version',
  }),
});

const VersionSummary = Type.Object({
  version: Type.Integer(),
  hash: Type.String(),
  reason: Type.String(),
  createdAt: Type.String(),
  createdBy: Type.String({ description: 'The key id that made the change, or "system"' }),
  exceptionId: Type.Union([Type.String(), Type.Null()], {
    description: 'The approved exception that made this version (SPEC §9), or null',
  }),
  expiresAt: Type.Union([Type.String(), Type.Null()], {
    description: "When the Bucket reverts the exception's version, or null",
  }),
});

const PolicyChange = Type.Object({
  op: Type.Union([Type.Literal('add'), Type.Literal('remove'), Type.Literal('replace')]),
  path: Type.String({ description: 'JSON Pointer (RFC 6901) of the changed value' }),
  from: Type.Optional(Type.Any()),
  to: Type.Optional(Type.Any()),
});

const PolicyUpdate = Type.Object(
  {
    document: Type.Unknown({ description: 'The complete new policy document' }),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { additionalProperties: false },
);

const live = (policy: PolicyVersion) => ({
  version: policy.version,
  hash: policy.hash,
  document: policy.document,
});

const summary = (policy: PolicyVersion, marks: ReadonlyMap<number, ExceptionMark>) => ({
  version: policy.version,
  hash: policy.hash,
  reason: policy.reason,
  createdAt: policy.createdAt,
  createdBy: policy.createdBy,
  exceptionId: marks.get(policy.version)?.exceptionId ?? null,
  expiresAt: marks.get(policy.version)?.expiresAt ?? null,
});

export const policyRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/v1/governance/policy',
      {
        config: { action: 'policy.read' },
        schema: {
          tags: ['governance'],
          summary: 'The live policy document',
          response: { 200: LivePolicy, ...errorResponses(401, 403) },
        },
      },
      async () => live(bucket.policies.current()),
    );

    app.put(
      '/v1/governance/policy',
      {
        config: { action: 'policy.update' },
        schema: {
          tags: ['governance'],
          summary: 'Replace the policy (owner): a new version, live from the next request',
          description:
            'An invalid document is refused with 400 invalid_policy; error.details.errors lists ' +
            'each problem with the JSON Pointer of the offending value. Removing a product or ' +
            'class that still has stored artifacts is refused with 409 policy_in_use. The live ' +
            'document again (the same canonical hash) makes no version: 200 with the live ' +
            'version and changed: false.',
          body: PolicyUpdate,
          response: { 200: PolicyUpdateAnswer, ...errorResponses(400, 401, 403, 409) },
        },
      },
      async (request) => {
        const { policy, changed } = await bucket.policies.update(
          {
            document: request.body.document,
            reason: request.body.reason,
            by: requestInfo(request).principal.id,
          },
          request.allowedAction?.entry ?? undefined,
        );
        return { ...live(policy), changed };
      },
    );

    app.post(
      '/v1/governance/policy/restore',
      {
        config: { action: 'policy.restore' },
        schema: {
          tags: ['governance'],
          summary: 'Make a stored policy version live again, as the next version (owner)',
          description:
            'Decided by the fixed owner-only rule, not by the policy: it repairs a live version ' +
            'that is unusable (a row edited by hand: 503 gate_unavailable everywhere else). The ' +
            'version restored must itself validate and match its hash (else 400 invalid_policy), ' +
            'relax no floor (403 policy_floor) and drop no product or class still in use (409 ' +
            'policy_in_use). Refused while halted: switch to read_only first. Restoring the live ' +
            'document of a usable version makes no version (changed: false).',
          body: Type.Object(
            {
              version: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
              reason: Type.String({ minLength: 1, maxLength: 1000 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: PolicyUpdateAnswer, ...errorResponses(400, 401, 403, 404, 409, 503) },
        },
      },
      async (request) => {
        const { policy, changed } = await bucket.policies.restore(
          request.body.version,
          request.body.reason,
          requestInfo(request).principal.id,
          request.allowedAction?.entry ?? undefined,
        );
        return { ...live(policy), changed };
      },
    );

    app.get(
      '/v1/governance/policy/versions',
      {
        config: { action: 'policy.versions' },
        schema: {
          tags: ['governance'],
          summary: 'Every policy version, oldest first',
          response: {
            200: Type.Object({ versions: Type.Array(VersionSummary) }),
            ...errorResponses(401, 403),
          },
        },
      },
      async () => {
        const marks = await bucket.policies.exceptionMarks();
        return { versions: (await bucket.policies.versions()).map((v) => summary(v, marks)) };
      },
    );

    app.get(
      '/v1/governance/policy/versions/:n',
      {
        config: { action: 'policy.versions' },
        schema: {
          tags: ['governance'],
          summary: 'One policy version, its document and its diff against the version before',
          params: Type.Object({ n: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }),
          response: {
            200: Type.Object({
              ...VersionSummary.properties,
              document: Type.Any(),
              previousVersion: Type.Union([Type.Integer(), Type.Null()]),
              diff: Type.Array(PolicyChange),
            }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request) => {
        const found = await bucket.policies.version(request.params.n);
        return {
          ...summary(found.policy, await bucket.policies.exceptionMarks()),
          document: found.policy.document,
          previousVersion: found.previousVersion,
          diff: found.diff,
        };
      },
    );
  };
