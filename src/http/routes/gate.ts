/**
 * The seed's gate endpoints (SPEC §4.2, pinned paths): a dry-run decision, and the limits, rules
 * and status the gate enforces (services/gate-info.ts); this module only translates HTTP.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { readOperation } from '../gate-input.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

const OperationAnswer = Type.Object({ allowed: Type.Boolean(), decision: Type.Any() });
const AnyObject = Type.Object({}, { additionalProperties: true });

export const gateRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      '/governance/gate/validate-operation',
      {
        config: { action: 'gate.validate_operation' },
        schema: {
          tags: ['governance'],
          summary: 'Dry run: the real decision for an operation through an integration',
          description:
            'Body `{integrationId, operationType: CREATE|READ|UPDATE|DELETE, artifactClass, ' +
            'dataSize, product?}`; decided by the gate as a product key of the integration, ' +
            'with no side effects.',
          response: {
            200: OperationAnswer,
            403: Type.Union([OperationAnswer, Type.Ref('ErrorEnvelope')]),
            ...errorResponses(400, 401),
          },
        },
      },
      async (request, reply) => {
        const dryRun = readOperation(request.body, request.query);
        const decision = await bucket.gateInfo.validateOperation(requestInfo(request), dryRun);
        return reply.code(decision.allow ? 200 : 403).send({ allowed: decision.allow, decision });
      },
    );

    app.get(
      '/governance/gate/scale-limits',
      {
        config: { action: 'gate.read' },
        schema: {
          tags: ['governance'],
          summary: 'The limits the gate enforces, with current usage',
          response: { 200: AnyObject, ...errorResponses(401, 403) },
        },
      },
      async () => bucket.gateInfo.scaleLimits(),
    );

    app.get(
      '/governance/gate/product-rules',
      {
        config: { action: 'gate.read' },
        schema: {
          tags: ['governance'],
          summary: 'Products and their classes, from the live policy',
          response: { 200: AnyObject, ...errorResponses(401, 403) },
        },
      },
      async () => bucket.gateInfo.productRules(),
    );

    app.get(
      '/governance/gate/operation-rules',
      {
        config: { action: 'gate.read' },
        schema: {
          tags: ['governance'],
          summary: 'Class × operation rules, from the live policy',
          response: { 200: AnyObject, ...errorResponses(401, 403) },
        },
      },
      async () => bucket.gateInfo.operationRules(),
    );

    app.get(
      '/governance/gate/status',
      {
        config: { action: 'gate.read' },
        schema: {
          tags: ['governance'],
          summary: 'Live gate status and counts',
          response: {
            200: Type.Object({
              status: Type.String(),
              mode: Type.String(),
              policyVersion: Type.Integer(),
              approvedIntegrations: Type.Integer(),
              decisionsLastHour: Type.Object({ allow: Type.Integer(), deny: Type.Integer() }),
              threatsLast24h: Type.Integer(),
            }),
            ...errorResponses(401, 403),
          },
        },
      },
      async () => bucket.gateInfo.status(),
    );
  };
