/**
 * The live certification (SPEC §9 pinned): `GET /v1/governance/certification`, any key
 * (services/certification/); this module only translates HTTP.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { PRODUCT_SCOPED_KINDS } from '../../domain/principal.js';
import { forScopedKey } from '../../services/certification/redact.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

const Check = Type.Object({
  id: Type.String({ description: 'G1–G7, R1–R7, T1–T7, F1–F6, L1–L5' }),
  name: Type.String(),
  status: Type.Union([Type.Literal('pass'), Type.Literal('fail')]),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  checkedAt: Type.String(),
});

const CertificationView = Type.Object({
  status: Type.Union([Type.Literal('certified'), Type.Literal('not_certified')]),
  generatedAt: Type.String(),
  policyVersion: Type.Integer(),
  checkpoint: Type.Object({ size: Type.Integer(), rootHash: Type.String() }),
  checks: Type.Array(Check),
});

export const certificationRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/v1/governance/certification',
      {
        config: { action: 'certification.read' },
        schema: {
          tags: ['governance'],
          summary:
            'The live certification: every guarantee, refusal, detector, failure mechanism and limit checked',
          description:
            'Each check is computed from live state or a dry run through the real gate (as a ' +
            'synthetic principal: no threats recorded, no suspension counted); `certified` only ' +
            'when every check passes. One summary audit entry per computation; a result is ' +
            'reused for up to 10 s. Product, ai_agent and core keys see evidence that would ' +
            'name artifacts or exceptions as counts.',
          response: { 200: CertificationView, ...errorResponses(401, 403) },
        },
      },
      async (request) => {
        const result = await bucket.certification.certify(app.gateBindings);
        // Products are isolated (SPEC §3): a scoped key sees counts, not other products' names.
        const { principal } = requestInfo(request);
        return PRODUCT_SCOPED_KINDS.has(principal.kind) ? forScopedKey(result) : result;
      },
    );
  };
