/**
 * Integrations (SPEC §4.2): `POST /governance/gate/validate-integration` (the seed's pinned path)
 * and the persisted integrations under `/v1/integrations`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import type { IntegrationRecord } from '../../domain/integration.js';
import { PRODUCT_SCOPED_KINDS } from '../../domain/principal.js';
import { readProposal } from '../gate-input.js';
import { requestInfo } from '../request.js';
import { errorResponses, ReasonView, ThreatView } from '../schemas.js';

const ProposalAnswer = Type.Object({
  decision: Type.Union([Type.Literal('approved'), Type.Literal('rejected')]),
  integrationId: Type.String(),
  checksPerformed: Type.Array(Type.String()),
  threatsFound: Type.Array(ThreatView),
  reasons: Type.Array(ReasonView),
});

const IntegrationView = Type.Object({
  id: Type.String(),
  integrationType: Type.String(),
  productName: Type.String(),
  artifactClasses: Type.Array(Type.String()),
  dataSchema: Type.Any(),
  status: Type.Union([Type.Literal('approved'), Type.Literal('revoked')]),
  approvedAt: Type.String(),
  approvedBy: Type.String(),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

function view(record: IntegrationRecord) {
  return {
    id: record.id,
    integrationType: record.type,
    productName: record.product,
    artifactClasses: [...record.classes],
    dataSchema: record.dataSchema,
    status: record.revokedAt === null ? ('approved' as const) : ('revoked' as const),
    approvedAt: record.approvedAt,
    approvedBy: record.approvedBy,
    revokedAt: record.revokedAt,
  };
}

const IdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
/** Ids are scoped by product: when products share an id, the owner names one. */
const ProductQuery = Type.Object({
  product: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});

export const integrationRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      '/governance/gate/validate-integration',
      {
        config: { action: 'integrations.validate' },
        schema: {
          tags: ['governance'],
          summary: 'Validate an integration proposal; an approved one is persisted',
          description:
            'Body `{integrationId, integrationType, productName, artifactClasses, dataSchema}` ' +
            '(snake_case names and the query-parameter form are accepted too). Checks in order: ' +
            'threat assessment, scale compatibility, product safety, compliance.',
          response: {
            200: ProposalAnswer,
            403: Type.Union([ProposalAnswer, Type.Ref('ErrorEnvelope')]),
            ...errorResponses(400, 401, 409),
          },
        },
      },
      async (request, reply) => {
        const proposal = readProposal(request.body, request.query);
        const info = requestInfo(request);
        if (PRODUCT_SCOPED_KINDS.has(info.principal.kind)) {
          // A product key proposes integrations for its own product only.
          const { authorizer } = bucket;
          await authorizer.authorize(
            authorizer.context(info, 'integrations.validate', { product: proposal.productName }),
          );
        }
        const answer = await bucket.integrations.propose(
          proposal,
          info.principal.id,
          request.allowedAction?.entry ?? undefined,
        );
        // Threats in a proposal reject it; they never count toward the caller's suspension.
        await bucket.threats.recordUncounted(request.id, info.principal, answer.threats);
        return reply.code(answer.approved ? 200 : 403).send({
          decision: answer.approved ? 'approved' : 'rejected',
          integrationId: answer.integrationId,
          checksPerformed: [...answer.checksPerformed],
          threatsFound: answer.threats,
          reasons: answer.reasons,
        });
      },
    );

    app.get(
      '/v1/integrations',
      {
        config: { action: 'integrations.list' },
        schema: {
          tags: ['integrations'],
          summary: 'Approved and revoked integrations',
          response: {
            200: Type.Object({ integrations: Type.Array(IntegrationView) }),
            ...errorResponses(401, 403),
          },
        },
      },
      async () => ({ integrations: bucket.integrations.list().map(view) }),
    );

    app.get(
      '/v1/integrations/:id',
      {
        config: { action: 'integrations.read' },
        schema: {
          tags: ['integrations'],
          summary: 'One integration',
          params: IdParams,
          querystring: ProductQuery,
          response: { 200: IntegrationView, ...errorResponses(401, 403, 404, 409) },
        },
      },
      async (request) => view(bucket.integrations.get(request.params.id, request.query.product)),
    );

    app.delete(
      '/v1/integrations/:id',
      {
        config: { action: 'integrations.revoke' },
        schema: {
          tags: ['integrations'],
          summary: 'Revoke an integration and every key bound to it (owner); effective at once',
          params: IdParams,
          querystring: ProductQuery,
          response: {
            200: Type.Object({
              integration: IntegrationView,
              revokedKeys: Type.Array(Type.String()),
            }),
            ...errorResponses(401, 403, 404, 409),
          },
        },
      },
      async (request) => {
        const revoked = await bucket.integrations.revoke(
          request.params.id,
          request.query.product,
          request.allowedAction?.entry ?? undefined,
        );
        return { integration: view(revoked.integration), revokedKeys: revoked.revokedKeys };
      },
    );
  };
