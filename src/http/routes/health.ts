/** `GET /health` (no key): live readings of the mode, the gate, the policy and each backend. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { VERSION } from '../../config.js';
import type { Mode } from '../../domain/modes.js';
import type { GateStatus } from '../../services/gate-health.js';

const Backend = Type.Object({
  kind: Type.String(),
  ok: Type.Boolean(),
  latencyMs: Type.Number(),
  error: Type.Optional(Type.String()),
});

const HealthAnswer = Type.Object({
  status: Type.Union([
    Type.Literal('healthy'),
    Type.Literal('degraded'),
    Type.Literal('unhealthy'),
  ]),
  version: Type.String(),
  governance: Type.Object({
    gate: Type.String(),
    policyVersion: Type.Integer(),
    mode: Type.String(),
  }),
  backends: Type.Object({ metadata: Backend, blobs: Backend, limiter: Backend }),
  // Null when the metadata store (which holds the log) cannot be read.
  audit: Type.Object({
    size: Type.Union([Type.Integer(), Type.Null()]),
    lastCheckpointAt: Type.Union([Type.String(), Type.Null()]),
  }),
});

/** The log's size and last checkpoint, read live; nulls when the store does not answer. */
async function auditReading(bucket: Bucket) {
  try {
    const [size, checkpoint] = await Promise.all([
      bucket.audit.size(),
      bucket.audit.lastCheckpoint(),
    ]);
    return { size, lastCheckpointAt: checkpoint?.createdAt ?? null };
  } catch {
    return { size: null, lastCheckpointAt: null };
  }
}

async function probe(kind: string, ping: () => Promise<void>) {
  const started = performance.now();
  try {
    await ping();
    return { kind, ok: true, latencyMs: Math.round((performance.now() - started) * 1000) / 1000 };
  } catch (error) {
    return {
      kind,
      ok: false,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      error: (error as Error).message,
    };
  }
}

/**
 * SPEC §9: `halted`, or no metadata (the gate cannot decide anything) → unhealthy; `read_only`,
 * a gate that failed closed within 60 s, or a failing blob store or limiter → degraded.
 */
function healthOf(
  mode: Mode,
  gate: GateStatus,
  backends: Record<'metadata' | 'blobs' | 'limiter', { ok: boolean }>,
): 'healthy' | 'degraded' | 'unhealthy' {
  if (mode === 'halted' || !backends.metadata.ok) return 'unhealthy';
  if (mode === 'read_only' || gate !== 'active') return 'degraded';
  return backends.blobs.ok && backends.limiter.ok ? 'healthy' : 'degraded';
}

export const healthRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/health',
      {
        config: { public: true },
        schema: {
          tags: ['health'],
          summary: 'Liveness and backend readings (no key needed)',
          security: [],
          response: { 200: HealthAnswer, 503: HealthAnswer },
        },
      },
      async (_request, reply) => {
        const [metadata, blobs, limiter, audit] = await Promise.all([
          probe(bucket.metadata.kind, () => bucket.metadata.ping()),
          probe(bucket.blobs.kind, () => bucket.blobs.ping()),
          probe(bucket.limiter.kind, () => bucket.limiter.ping()),
          auditReading(bucket),
        ]);
        const mode = bucket.modes.mode();
        // A stored policy that cannot be used makes every decision fail closed (services/policies.ts).
        const live = bucket.gateHealth.status(mode);
        const gate = live === 'active' && !bucket.policies.usable() ? 'degraded' : live;
        const status = healthOf(mode, gate, { metadata, blobs, limiter });
        return reply.code(status === 'unhealthy' ? 503 : 200).send({
          status,
          version: VERSION,
          governance: { gate, policyVersion: bucket.policies.versionNumber(), mode },
          backends: { metadata, blobs, limiter },
          audit,
        });
      },
    );
  };
