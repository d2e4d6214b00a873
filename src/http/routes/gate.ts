/**
 * The seed's gate endpoints (SPEC §4.2, pinned paths): a dry-run decision, and the limits, rules
 * and status the gate enforces, read from the live policy and live counters.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import type { ArtifactVersion } from '../../domain/artifact.js';
import { ruleOf, type Operation } from '../../domain/policy.js';
import { PRODUCT_SCOPED_KINDS, type Principal } from '../../domain/principal.js';
import type { Action, TargetState } from '../../gate/context.js';
import { acceptedMediaTypes } from '../../gate/stages/content.js';
import { readOperation } from '../gate-input.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

const ACTION_OF: Record<Operation, Action> = {
  CREATE: 'artifact.write',
  UPDATE: 'artifact.write',
  READ: 'artifact.read',
  DELETE: 'artifact.delete',
};

/** A stand-in head for the dry run of UPDATE and DELETE: the name exists, live. */
function existingHead(product: string, classId: string): ArtifactVersion {
  return {
    product,
    class: classId,
    name: 'validate-operation',
    version: 1,
    sha256: '0'.repeat(64),
    size: 0,
    contentType: 'application/octet-stream',
    meta: {},
    createdAt: new Date().toISOString(),
    createdBy: 'validate-operation',
    retention: { mode: 'none', until: null },
    tombstone: false,
    storage: 'none',
  };
}

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
        const proposal = readOperation(request.body, request.query);
        const info = requestInfo(request);
        const integration = bucket.integrations.lookup(proposal.integrationId);
        const { authorizer } = bucket;
        const product = integration?.product ?? proposal.product ?? info.principal.product;
        if (PRODUCT_SCOPED_KINDS.has(info.principal.kind)) {
          await authorizer.require(
            authorizer.context(info, 'gate.validate_operation', { product }),
          );
        }
        const principal: Principal = {
          id: info.principal.id,
          kind: 'product',
          product,
          integrationId: proposal.integrationId,
        };
        const policy = bucket.policies.current();
        const classRule = ruleOf(policy.document.classes, proposal.artifactClass);
        const target: TargetState = {
          head:
            proposal.operationType === 'UPDATE' || proposal.operationType === 'DELETE'
              ? existingHead(product ?? '', proposal.artifactClass)
              : null,
        };
        const ctx = authorizer.context(
          { requestId: request.id, principal },
          ACTION_OF[proposal.operationType],
          {
            product: proposal.product ?? product,
            class: proposal.artifactClass,
            contentType: (classRule && acceptedMediaTypes(classRule)?.[0]) ?? null,
            declaredSize: proposal.dataSize,
            writeSlot: true,
            target,
          },
        );
        // Decided directly: a dry run records no threats and counts toward no suspension.
        const { decision } = await bucket.gate.decide(ctx);
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
      async () => {
        const policy = bucket.policies.current();
        const products: Record<string, object> = {};
        let artifacts = 0;
        let bytes = 0;
        for (const [id, rule] of Object.entries(policy.document.products)) {
          const usage = await bucket.metadata.usage(id);
          artifacts += usage.artifacts;
          bytes += usage.bytes;
          products[id] = {
            bytes: usage.bytes,
            quotaBytes: rule.quotaBytes,
            artifacts: usage.artifacts,
            maxArtifacts: rule.maxArtifacts,
          };
        }
        return {
          policyVersion: policy.version,
          limits: policy.document.limits,
          usage: {
            concurrentWrites: await bucket.limiter.writesInFlight(),
            // Artifact requests accepted over the last second (SPEC §2.3 rates).
            ...(await bucket.limiter.rateUsage().then((rates) => ({
              writesPerSecond: rates.write,
              readsPerSecond: rates.read,
            }))),
            artifacts,
            bytes,
            products,
          },
        };
      },
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
      async () => {
        const policy = bucket.policies.current();
        return {
          policyVersion: policy.version,
          products: policy.document.products,
          rejectedClasses: policy.document.rejectedClasses,
        };
      },
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
      async () => {
        const policy = bucket.policies.current();
        const classes = Object.fromEntries(
          Object.entries(policy.document.classes).map(([id, rule]) => [
            id,
            {
              operations: rule.operations,
              content: rule.content,
              maxBytes: rule.maxBytes,
              retention: rule.retention,
            },
          ]),
        );
        return {
          policyVersion: policy.version,
          classes,
          principals: { ai_agent: ['CREATE', 'READ'] },
        };
      },
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
      async () => ({
        status: 'active',
        mode: 'normal',
        policyVersion: bucket.policies.current().version,
        approvedIntegrations: bucket.integrations.activeCount(),
        decisionsLastHour: bucket.stats.lastHour(),
        threatsLast24h: await bucket.threats.last24h(),
      }),
    );
  };
