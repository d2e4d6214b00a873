/**
 * Core (SPEC §11) wired: the catalog of agents and baskets, the run engine of this node and the
 * run service the routes use. A run's artifacts are written through the artifact service as the
 * Bucket's own `core` principal, so the gate, audit receipts and events apply to them as to any
 * write; a rate or concurrency refusal (429) is waited out, a gate denial fails the step.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { BucketError } from '../domain/errors.js';
import type { Principal } from '../domain/principal.js';
import type { ArtifactRef } from '../domain/runs.js';
import type { ArtifactService } from '../services/artifacts/index.js';
import type { Resolver } from '../services/egress.js';
import type { PolicyService } from '../services/policies.js';
import type { BlobStore, MetadataStore } from '../storage/ports.js';
import { Catalog } from './catalog.js';
import { RunEngine } from './engine.js';
import type { ExecutionDeps } from './execute.js';
import { RunService, RUNS_DEFAULTS } from './runs.js';
import { CoreStore } from './stored.js';

/** The Bucket's own principal for Core's writes (SPEC §11); no key has this id. */
export const CORE_PRINCIPAL: Principal = {
  id: 'bucket:core',
  kind: 'core',
  product: 'core',
  integrationId: null,
};

/** Attempts of a run's artifact write refused by a rate or concurrency limit. */
const RATE_ATTEMPTS = 20;

/** The endpoints of the remote-calling built-ins, from the seed's variable names. */
export function agentEndpointsFrom(env: NodeJS.ProcessEnv): Record<string, string> {
  const names: Record<string, string> = {
    financial_coordinator: 'FINANCIAL_COORDINATOR_API_URL',
    gurukul_trend: 'GURUKUL_TREND_API',
    gurukul_feedback: 'GURUKUL_FEEDBACK_API',
    gurukul_anomaly: 'GURUKUL_ANOMALY_API',
    law_agent: 'LAW_AGENT_API_URL',
  };
  const endpoints: Record<string, string> = {};
  for (const [agent, variable] of Object.entries(names)) {
    const value = env[variable];
    if (value) endpoints[agent] = value;
  }
  return endpoints;
}

export interface CoreOptions {
  readonly now: () => number;
  readonly running: () => boolean;
  readonly endpoints?: Readonly<Record<string, string>> | undefined;
  readonly pollMs?: number | undefined;
  readonly leaseMs?: number | undefined;
  readonly resolver?: Resolver | undefined;
  /** Told of each run's queue wait (ms) as it starts on this node. */
  readonly observeStart?: ((waitMs: number) => void) | undefined;
  readonly observeStep?: ExecutionDeps['observeStep'];
}

export interface Core {
  readonly catalog: Catalog;
  readonly engine: RunEngine;
  readonly runs: RunService;
}

export function createCore(
  metadata: MetadataStore,
  blobs: BlobStore,
  artifacts: ArtifactService,
  policies: PolicyService,
  options: CoreOptions,
): Core {
  const contents = new CoreStore(metadata, blobs);
  const catalog = new Catalog(metadata, contents);
  const limits = () => policies.current().document.limits;
  const store = async (cls: string, name: string, content: unknown): Promise<ArtifactRef> => {
    const bytes = Buffer.from(JSON.stringify(content));
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await artifacts.put({
          requestId: `run-${randomUUID()}`,
          principal: CORE_PRINCIPAL,
          product: 'core',
          class: cls,
          name,
          contentType: 'application/json',
          declaredSize: bytes.length,
          meta: {},
          preconditions: { ifNoneMatch: false, ifVersion: null },
          sha256Claim: null,
          body: Readable.from([bytes]),
        });
        const { version } = result;
        return {
          product: 'core',
          class: cls,
          name,
          version: version.version,
          audit: result.receipt,
        };
      } catch (error) {
        if (!(error instanceof BucketError) || error.status !== 429 || attempt >= RATE_ATTEMPTS) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  };
  const engine = new RunEngine(
    metadata,
    {
      metadata,
      catalog,
      contents,
      store,
      now: options.now,
      egressAllow: () => policies.current().document.egress?.allow ?? [],
      endpoints: options.endpoints ?? {},
      resolver: options.resolver,
      running: options.running,
      observeStep: options.observeStep,
    },
    {
      concurrentRuns: () => limits().concurrentRuns ?? RUNS_DEFAULTS.concurrentRuns,
      running: options.running,
      pollMs: options.pollMs,
      leaseMs: options.leaseMs,
      observeStart: options.observeStart,
    },
  );
  const runs = new RunService(metadata, catalog, engine, {
    now: options.now,
    queuedRuns: () => limits().queuedRuns ?? RUNS_DEFAULTS.queuedRuns,
    store,
    contents,
  });
  return { catalog, engine, runs };
}
