/**
 * Runs of baskets and agents (SPEC §11), the use cases behind the routes: start (the plan fixed,
 * the input checked against the agents' input schemas, the queue bounded by `limits.queuedRuns`:
 * 429), read, list and cancel — with who may run and who sees which runs: owner, executor and
 * core keys all of them; a product key runs the baskets whose `products` list its product, and
 * sees its own runs only (another's is 404, as if it did not exist).
 */
import { randomUUID } from 'node:crypto';
import { BucketError } from '../domain/errors.js';
import type { Principal } from '../domain/principal.js';
import { executionRecord } from '../domain/run-record.js';
import {
  recordArtifactName,
  runView,
  type RunFilter,
  type RunPlan,
  type RunRecord,
  type RunStatus,
} from '../domain/runs.js';
import { walkJson, WALK_LIMITS } from '../gate/detectors/walk.js';
import type { ChangeEntry, MetadataStore } from '../storage/ports.js';
import type { Catalog, ResolvedAgent } from './catalog.js';
import type { RunEngine } from './engine.js';
import type { ExecutionDeps } from './execute.js';
import { schemaErrors } from './schemas.js';
import type { CoreStore } from './stored.js';
import { RunWaits } from './waits.js';

export const RUNS_DEFAULTS = { concurrentRuns: 8, queuedRuns: 1000 } as const;

/** An agent run's time limits: the agent's own, and a little more for the run. */
const AGENT_RUN_SLACK_MS = 5000;

export interface RunTarget {
  readonly kind: 'basket' | 'agent';
  readonly name: string;
}

export interface RunListQuery {
  readonly basket?: string | undefined;
  readonly agent?: string | undefined;
  readonly status?: RunStatus | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

type Caller = Pick<Principal, 'id' | 'kind' | 'product'>;

function encodeCursor(run: RunRecord): string {
  return Buffer.from(JSON.stringify([run.createdAt, run.id])).toString('base64url');
}

function decodeCursor(cursor: string): RunFilter['before'] {
  try {
    const [createdAt, id] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string') return { createdAt, id };
  } catch {
    // Answered below.
  }
  throw new BucketError('invalid_cursor');
}

export class RunService {
  private readonly waits: RunWaits;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly catalog: Catalog,
    private readonly engine: RunEngine,
    private readonly options: {
      readonly now: () => number;
      readonly queuedRuns: () => number;
      /** Stores a run's artifact as the Bucket's `core` principal (execute.ts `store`). */
      readonly store: ExecutionDeps['store'];
      /** Reads the steps' outputs (their `agent_output` artifacts). */
      readonly contents: CoreStore;
    },
  ) {
    this.waits = new RunWaits(metadata);
  }

  private async planOf(
    target: RunTarget,
    caller: Caller,
  ): Promise<{ plan: RunPlan; agents: ResolvedAgent[] }> {
    if (target.kind === 'agent') {
      if (caller.kind === 'product') {
        throw new BucketError(
          'forbidden',
          'product keys run baskets that list their product, not single agents',
        );
      }
      const agent = await this.catalog.agent(target.name);
      if (!agent) throw new BucketError('agent_not_found', `no agent "${target.name}"`);
      const timeoutMs = agent.kind === 'builtin' ? agent.agent.timeoutMs : agent.spec.timeoutMs;
      const plan: RunPlan = {
        kind: 'agent',
        name: target.name,
        strategy: 'sequential',
        agents: [target.name],
        stepTimeoutMs: timeoutMs,
        timeoutMs: timeoutMs + AGENT_RUN_SLACK_MS,
      };
      return { plan, agents: [agent] };
    }
    const basket = await this.catalog.basket(target.name);
    if (!basket) throw new BucketError('basket_not_found', `no basket "${target.name}"`);
    if (caller.kind === 'product' && !basket.products.includes(caller.product ?? '')) {
      throw new BucketError(
        'forbidden',
        `basket "${basket.name}" does not list product "${caller.product ?? ''}"`,
      );
    }
    const agents: ResolvedAgent[] = [];
    for (const name of basket.agents) {
      const agent = await this.catalog.agent(name);
      if (!agent)
        throw new BucketError(
          'invalid_run',
          `basket "${basket.name}" names an unknown agent "${name}"`,
        );
      agents.push(agent);
    }
    const plan: RunPlan = {
      kind: 'basket',
      name: basket.name,
      strategy: basket.strategy,
      agents: basket.agents,
      stepTimeoutMs: basket.stepTimeoutMs,
      timeoutMs: basket.timeoutMs,
    };
    return { plan, agents };
  }

  /** Queues a run (202); its input is checked now, against what will first receive it. */
  async start(
    target: RunTarget,
    input: unknown,
    caller: Caller,
    entry?: ChangeEntry,
  ): Promise<RunRecord> {
    const { plan, agents } = await this.planOf(target, caller);
    // The input is stored with the run and handed to agents whose outputs the content stage
    // inspects within WALK_LIMITS: deeper input could never pass, and past a few thousand levels
    // serialising it would overflow the stack (a 500) — refused here, before anything is kept.
    if (!walkJson(input, () => undefined).complete) {
      throw new BucketError(
        'invalid_run',
        `the input is nested deeper than ${WALK_LIMITS.maxDepth} levels or holds more than ` +
          `${WALK_LIMITS.maxNodes} values: flatten it`,
      );
    }
    const receivers = plan.strategy === 'parallel' ? agents : agents.slice(0, 1);
    for (const agent of receivers) {
      const described = agent.kind === 'builtin' ? agent.agent : agent.spec;
      const problem = schemaErrors(described.inputSchema, input);
      if (problem !== null) {
        throw new BucketError(
          'invalid_run',
          `the input does not match ${described.name}'s input schema: ${problem}`,
        );
      }
    }
    const run: RunRecord = {
      id: randomUUID(),
      plan,
      status: 'queued',
      input,
      error: null,
      steps: plan.agents.map((agent) => ({
        agent,
        status: 'queued',
        startedAt: null,
        finishedAt: null,
      })),
      product: caller.kind === 'product' ? caller.product : null,
      requestedBy: caller.id,
      createdAt: new Date(this.options.now()).toISOString(),
      startedAt: null,
      finishedAt: null,
      deadline: null,
      cancelRequested: false,
      record: null,
    };
    const queuedRuns = this.options.queuedRuns();
    if (!(await this.metadata.insertRun(run, queuedRuns, entry))) {
      throw new BucketError(
        'run_queue_full',
        `${queuedRuns} runs are queued already (limits.queuedRuns)`,
        {
          headers: { 'retry-after': '1' },
        },
      );
    }
    this.engine.wake();
    return run;
  }

  /** The run, if the caller may see it (else 404, as for a run that does not exist). */
  async get(id: string, caller: Caller): Promise<RunRecord> {
    const run = await this.metadata.getRun(id);
    if (!run || (caller.kind === 'product' && run.product !== caller.product)) {
      throw new BucketError('run_not_found', `no run ${id}`);
    }
    return run;
  }

  /**
   * The run as the API shows it, with each succeeded step's output read through its
   * `agent_output` artifact (the run's row holds none; docs/decisions/0057).
   */
  async view(run: RunRecord): Promise<ReturnType<typeof runView>> {
    const outputs = await Promise.all(
      run.steps.map((step) =>
        step.status === 'succeeded' ? this.options.contents.output(step.artifact) : null,
      ),
    );
    return runView(run, outputs);
  }

  async list(
    query: RunListQuery,
    caller: Caller,
  ): Promise<{ runs: RunRecord[]; nextCursor: string | null }> {
    if (query.basket !== undefined && query.agent !== undefined) {
      throw new BucketError('invalid_request', 'filter by basket or by agent, not both');
    }
    const named = query.basket ?? query.agent;
    const filter: RunFilter = {
      ...(named !== undefined
        ? { kind: query.basket !== undefined ? 'basket' : 'agent', name: named }
        : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(caller.kind === 'product' ? { product: caller.product ?? '' } : {}),
      ...(query.cursor !== undefined ? { before: decodeCursor(query.cursor) } : {}),
      limit: query.limit,
    };
    const runs = await this.metadata.listRuns(filter);
    const last = runs.at(-1);
    return { runs, nextCursor: runs.length === query.limit && last ? encodeCursor(last) : null };
  }

  /** Cancels a run (202): a queued one at once, a running one as soon as its node acts on it. */
  async cancel(id: string, caller: Caller, entry?: ChangeEntry): Promise<RunRecord> {
    await this.get(id, caller);
    const run = await this.metadata.requestCancel(
      id,
      new Date(this.options.now()).toISOString(),
      entry,
    );
    if (!run) throw new BucketError('run_not_found', `no run ${id}`);
    this.engine.cancelled(id);
    // Cancelled while queued (no node executes it): its record is stored here.
    if (run.status === 'cancelled' && run.record === null) return this.recorded(run);
    return run;
  }

  /** The run with its `execution_record` stored and attached; as it was when that fails. */
  private async recorded(run: RunRecord): Promise<RunRecord> {
    try {
      const record = await this.options.store(
        'execution_record',
        recordArtifactName(run.id),
        executionRecord(run),
      );
      return (await this.metadata.attachRecord(run.id, record)) ?? run;
    } catch {
      // The cancel stands (it is committed, with its event); the record is what is missing.
      return run;
    }
  }

  /**
   * The run once finished, or as it stands when `ms` have passed, `signal` aborts (the client went
   * away) or the waits are closed (the server stops).
   */
  wait(id: string, ms: number, signal?: AbortSignal): Promise<RunRecord | null> {
    return this.waits.wait(id, ms, signal);
  }

  /** Ends every wait now, and every later one at once (the server stops). */
  closeWaits(): void {
    this.waits.close();
  }
}
