/**
 * Where Core finds its agents and baskets (SPEC §11): the built-in agents and the shipped
 * baskets in code, and `agent_spec` / `basket_config` artifacts of the `core` namespace, named
 * `<name>.json` (an artifact basket of a shipped basket's name replaces it; a built-in agent's
 * name cannot be taken). Artifacts are read from the store directly, as the Bucket's own
 * configuration: the request that lists or runs them is the one the gate decides.
 */
import type { ArtifactVersion } from '../domain/artifact.js';
import { MAX_BASKET_AGENTS } from '../domain/run-record.js';
import { BucketError } from '../domain/errors.js';
import type { MetadataStore } from '../storage/ports.js';
import { BUILTIN_AGENTS } from './agents/index.js';
import type { BuiltinAgent, JsonSchema } from './agents/types.js';
import { schemaErrors, schemaProblem } from './schemas.js';
import type { CoreStore } from './stored.js';

export interface BasketConfig {
  readonly name: string;
  readonly description: string;
  readonly strategy: 'sequential' | 'parallel';
  readonly agents: readonly string[];
  readonly products: readonly string[];
  readonly stepTimeoutMs: number;
  readonly timeoutMs: number;
  readonly source: 'shipped' | 'artifact';
}

export interface AgentSpec {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly kind: 'http';
  readonly endpoint: string;
  readonly inputSchema: JsonSchema;
  readonly outputSchema: JsonSchema;
  readonly timeoutMs: number;
}

export type ResolvedAgent =
  | { readonly kind: 'builtin'; readonly agent: BuiltinAgent }
  | { readonly kind: 'http'; readonly spec: AgentSpec };

/** GET /v1/agents's item (SPEC §11, pinned). */
export function agentInfo(resolved: ResolvedAgent) {
  const a = resolved.kind === 'builtin' ? resolved.agent : resolved.spec;
  return {
    name: a.name,
    version: a.version,
    kind: resolved.kind,
    description: a.description,
    inputSchema: a.inputSchema,
    outputSchema: a.outputSchema,
    timeoutMs: a.timeoutMs,
  };
}

export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';
const DEFAULT_STEP_TIMEOUT_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 300_000;

export const BASKET_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['name', 'strategy', 'agents'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: 2000 },
    strategy: { enum: ['sequential', 'parallel'] },
    agents: { type: 'array', minItems: 1, maxItems: MAX_BASKET_AGENTS, items: { type: 'string' } },
    products: { type: 'array', items: { type: 'string' } },
    stepTimeoutMs: { type: 'integer', minimum: 1, maximum: 3_600_000 },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000 },
  },
};

export const AGENT_SPEC_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['name', 'kind', 'endpoint', 'inputSchema', 'outputSchema'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    version: { type: 'string', maxLength: 100 },
    description: { type: 'string', maxLength: 2000 },
    kind: { const: 'http' },
    endpoint: { type: 'string', pattern: '^https?://' },
    inputSchema: { type: 'object' },
    outputSchema: { type: 'object' },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000 },
  },
};

export const SHIPPED_BASKETS: readonly BasketConfig[] = [
  {
    name: 'finance_daily_check',
    description: 'Cash flow analysis, then a savings recommendation',
    strategy: 'sequential',
    agents: ['cashflow_analyzer', 'goal_recommender'],
    products: [],
    stepTimeoutMs: 30_000,
    timeoutMs: 120_000,
    source: 'shipped',
  },
  {
    name: 'vehicle_care',
    description: 'Diagnostics and the maintenance schedule of a vehicle, side by side',
    strategy: 'parallel',
    agents: ['auto_diagnostics', 'vehicle_maintenance'],
    products: [],
    stepTimeoutMs: 30_000,
    timeoutMs: 120_000,
    source: 'shipped',
  },
];

/** Artifacts listed per page when every basket or agent spec is read. */
const PAGE = 500;

export class Catalog {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly contents: CoreStore,
  ) {}

  private async heads(cls: string): Promise<ArtifactVersion[]> {
    const all: ArtifactVersion[] = [];
    let after: { class: string; name: string } | undefined;
    for (;;) {
      const page = await this.metadata.listArtifacts({
        product: 'core',
        class: cls,
        after,
        limit: PAGE,
      });
      all.push(...page);
      const last = page.at(-1);
      if (page.length < PAGE || !last) return all;
      after = { class: last.class, name: last.name };
    }
  }

  private static basketOf(content: unknown, name: string): BasketConfig | null {
    if (schemaErrors(BASKET_SCHEMA, content) !== null) return null;
    const c = content as Partial<BasketConfig> & Pick<BasketConfig, 'name' | 'strategy' | 'agents'>;
    if (`${c.name}.json` !== name) return null;
    return {
      name: c.name,
      description: c.description ?? '',
      strategy: c.strategy,
      agents: c.agents,
      products: c.products ?? [],
      stepTimeoutMs: c.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
      timeoutMs: c.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      source: 'artifact',
    };
  }

  private static specOf(content: unknown, name: string): AgentSpec | null {
    if (schemaErrors(AGENT_SPEC_SCHEMA, content) !== null) return null;
    const c = content as Partial<AgentSpec> & Pick<AgentSpec, 'name' | 'endpoint'>;
    if (`${c.name}.json` !== name || BUILTIN_AGENTS.has(c.name)) return null;
    const inputSchema = c.inputSchema ?? {};
    const outputSchema = c.outputSchema ?? {};
    if (schemaProblem(inputSchema) !== null || schemaProblem(outputSchema) !== null) return null;
    return {
      name: c.name,
      version: c.version ?? '1',
      description: c.description ?? '',
      kind: 'http',
      endpoint: c.endpoint,
      inputSchema,
      outputSchema,
      timeoutMs: c.timeoutMs ?? 30_000,
    };
  }

  async baskets(): Promise<BasketConfig[]> {
    const stored = new Map<string, BasketConfig>();
    for (const head of await this.heads('basket_config')) {
      const basket = Catalog.basketOf(await this.contents.json(head), head.name);
      if (basket) stored.set(basket.name, basket);
    }
    const shipped = SHIPPED_BASKETS.filter((basket) => !stored.has(basket.name));
    return [...shipped, ...stored.values()];
  }

  /**
   * The artifact `<name>.json` of `cls`, parsed: null when there is none (or it is tombstoned or
   * unreadable); a stored one that does not parse is refused with its schema errors (400).
   */
  private async stored<T>(
    cls: 'basket_config' | 'agent_spec',
    name: string,
    parse: (content: unknown, fileName: string) => T | null,
    schema: JsonSchema,
  ): Promise<T | null> {
    const fileName = `${name}.json`;
    const head = await this.metadata.getHead({ product: 'core', class: cls, name: fileName });
    const content = await this.contents.json(head);
    if (content === null) return null;
    const parsed = parse(content, fileName);
    if (parsed !== null) return parsed;
    const problem =
      schemaErrors(schema, content) ??
      'its name is not its file name, or its schemas do not compile';
    throw new BucketError('invalid_run', `${cls} ${fileName} is invalid: ${problem}`);
  }

  async basket(name: string): Promise<BasketConfig | null> {
    const stored = await this.stored('basket_config', name, Catalog.basketOf, BASKET_SCHEMA);
    return stored ?? SHIPPED_BASKETS.find((basket) => basket.name === name) ?? null;
  }

  async agents(): Promise<ResolvedAgent[]> {
    const builtins = [...BUILTIN_AGENTS.values()].map((agent) => ({
      kind: 'builtin' as const,
      agent,
    }));
    const specs: ResolvedAgent[] = [];
    for (const head of await this.heads('agent_spec')) {
      const spec = Catalog.specOf(await this.contents.json(head), head.name);
      if (spec) specs.push({ kind: 'http', spec });
    }
    return [...builtins, ...specs];
  }

  async agent(name: string): Promise<ResolvedAgent | null> {
    const builtin = BUILTIN_AGENTS.get(name);
    if (builtin) return { kind: 'builtin', agent: builtin };
    const spec = await this.stored('agent_spec', name, Catalog.specOf, AGENT_SPEC_SCHEMA);
    return spec ? { kind: 'http', spec } : null;
  }
}
