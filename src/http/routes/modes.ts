/**
 * Modes and incidents (SPEC §9, pinned): the mode (any key reads it, the owner switches it) and
 * the incidents (owner, executor and auditor read them, the owner resolves one). The switch and
 * the resolution are decided by the gate's fixed owner-only stage (gate/stages/owner.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { modeAnswer } from '../../services/modes.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

const ModeName = Type.Union([
  Type.Literal('normal'),
  Type.Literal('read_only'),
  Type.Literal('halted'),
]);

const ModeView = Type.Object({
  mode: ModeName,
  since: Type.String(),
  reason: Type.String(),
  by: Type.String({ description: 'The owner key id that switched, or "system"' }),
  incidentId: Type.Optional(
    Type.String({ description: 'The incident whose opening made this switch' }),
  ),
});

const IncidentView = Type.Object({
  id: Type.String(),
  kind: Type.Union([
    Type.Literal('integrity'),
    Type.Literal('drift'),
    Type.Literal('gate_failure'),
    Type.Literal('audit'),
  ]),
  status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  detectedAt: Type.String(),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  resolvedAt: Type.Union([Type.String(), Type.Null()]),
  resolvedBy: Type.Union([Type.String(), Type.Null()]),
  resolution: Type.Union([Type.String(), Type.Null()]),
});

export const modeRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/v1/governance/mode',
      {
        config: { action: 'mode.read' },
        schema: {
          tags: ['governance'],
          summary: 'The Bucket’s mode: normal, read_only or halted (any key)',
          response: { 200: ModeView, ...errorResponses(401, 403) },
        },
      },
      async () => modeAnswer(bucket.modes.current()),
    );

    app.post(
      '/v1/governance/mode',
      {
        config: { action: 'mode.set' },
        schema: {
          tags: ['governance'],
          summary: 'Switch the mode (owner; works whatever the policy or the gate’s state)',
          description:
            'read_only refuses artifact writes, tombstones and restores with 503 ' +
            'bucket_read_only; halted refuses everything but /health, /metrics, /openapi.json, ' +
            '/docs, the mode and incident routes and audit reads with 503 bucket_halted. ' +
            'Audited (the entry names the new mode), and announced as bucket.mode.changed.',
          body: Type.Object(
            { mode: ModeName, reason: Type.String({ minLength: 1, maxLength: 1000 }) },
            { additionalProperties: false },
          ),
          response: { 200: ModeView, ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => {
        const { mode, reason } = request.body;
        const by = requestInfo(request).principal.id;
        const state = await bucket.modes.set(
          { mode, reason, by },
          request.allowedAction?.entry ?? undefined,
        );
        return modeAnswer(state);
      },
    );

    app.get(
      '/v1/governance/incidents',
      {
        config: { action: 'incidents.list' },
        schema: {
          tags: ['governance'],
          summary: 'Incidents, the newest first (owner, executor, auditor)',
          querystring: Type.Object({
            status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
          }),
          response: {
            200: Type.Object({ incidents: Type.Array(IncidentView) }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => ({ incidents: await bucket.incidents.list(request.query.status) }),
    );

    app.post(
      '/v1/governance/incidents/:id/resolve',
      {
        config: { action: 'incidents.resolve' },
        schema: {
          tags: ['governance'],
          summary: 'Resolve an open incident (owner); the mode stays as it is',
          params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
          body: Type.Object(
            { resolution: Type.String({ minLength: 1, maxLength: 2000 }) },
            { additionalProperties: false },
          ),
          response: { 200: IncidentView, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) =>
        bucket.incidents.resolve(
          request.params.id,
          { resolution: request.body.resolution, by: requestInfo(request).principal.id },
          request.allowedAction?.entry ?? undefined,
        ),
    );
  };
