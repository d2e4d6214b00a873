/**
 * `bucket agents`, `bucket baskets list|show|run [--follow]`, `bucket runs show|list|cancel`
 * (SPEC §11): Core's agents and baskets, and runs started, followed step by step, listed and
 * cancelled. A followed run that does not succeed exits 1 with its failing step's error.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, UsageError } from '../errors.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import {
  connect,
  examples,
  positiveInteger,
  remoteOptions,
  type RemoteOptions,
} from '../remote.js';

const JSON_BODY = { 'content-type': 'application/json' };
const FOLLOW_POLL_MS = 250;

interface StepView {
  readonly agent: string;
  readonly status: string;
  readonly error?: { code: string; message: string };
}

interface RunView {
  readonly id: string;
  readonly basket?: string;
  readonly agent?: string;
  readonly status: string;
  readonly output?: unknown;
  readonly error?: { code: string; message: string };
  readonly steps: readonly StepView[];
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

interface BasketView {
  readonly name: string;
  readonly description: string;
  readonly strategy: string;
  readonly agents: readonly string[];
  readonly products: readonly string[];
  readonly stepTimeoutMs: number;
  readonly timeoutMs: number;
  readonly source: string;
}

const finished = (status: string) => status !== 'queued' && status !== 'running';

function printRun(run: RunView): void {
  printLine(`run ${run.id} (${run.basket ?? run.agent ?? '?'}): ${run.status}`);
  run.steps.forEach((step, index) => {
    const error = step.error ? ` — ${step.error.code}: ${step.error.message}` : '';
    printLine(`  ${index + 1}. ${step.agent}: ${step.status}${error}`);
  });
  if (run.error) printLine(`error: ${run.error.code}: ${run.error.message}`);
  if (run.output !== undefined) printLine(`output: ${JSON.stringify(run.output)}`);
}

function failedRun(run: RunView): CliError {
  const reason = run.error ? `${run.error.code}: ${run.error.message}` : run.status;
  return new CliError(
    `run ${run.id} ${run.status}: ${reason} (details: bucket runs show ${run.id})`,
  );
}

async function readInput(file: string | undefined): Promise<unknown> {
  if (file === undefined) return {};
  let text: string;
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    text = await readFile(file, 'utf8').catch(() => {
      throw new UsageError(`cannot read ${file}: give a JSON file, or - for stdin`);
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${file} is not JSON: the run's input is a JSON object`);
  }
}

async function listAgents(options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<{
    agents: {
      name: string;
      kind: string;
      version: string;
      timeoutMs: number;
      description: string;
    }[];
  }>('GET', '/v1/agents');
  if (options.json) return printJson(answer);
  const rows = answer.agents.map((a) => [
    a.name,
    a.kind,
    a.version,
    String(a.timeoutMs),
    a.description,
  ]);
  printLine(formatTable([['NAME', 'KIND', 'VERSION', 'TIMEOUT MS', 'DESCRIPTION'], ...rows]));
}

async function listBaskets(options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<{ baskets: BasketView[] }>('GET', '/v1/baskets');
  if (options.json) return printJson(answer);
  const rows = answer.baskets.map((b) => [b.name, b.strategy, b.agents.join(' → '), b.source]);
  printLine(formatTable([['NAME', 'STRATEGY', 'AGENTS', 'SOURCE'], ...rows]));
}

async function showBasket(name: string, options: RemoteOptions): Promise<void> {
  const basket = await connect(options).json<BasketView>(
    'GET',
    `/v1/baskets/${encodeURIComponent(name)}`,
  );
  if (options.json) return printJson(basket);
  printLine(`basket ${basket.name} (${basket.strategy}, ${basket.source}): ${basket.description}`);
  printLine(`agents: ${basket.agents.join(basket.strategy === 'parallel' ? ' + ' : ' → ')}`);
  printLine(`products: ${basket.products.length > 0 ? basket.products.join(', ') : '-'}`);
  printLine(`step timeout: ${basket.stepTimeoutMs} ms, run timeout: ${basket.timeoutMs} ms`);
}

interface RunOptions extends RemoteOptions {
  readonly input?: string;
  readonly follow?: boolean;
}

async function follow(options: RemoteOptions, id: string): Promise<RunView> {
  const client = connect(options);
  const seen = new Map<number, string>();
  for (;;) {
    const run = await client.json<RunView>('GET', `/v1/runs/${encodeURIComponent(id)}`);
    if (!options.json) {
      run.steps.forEach((step, index) => {
        if (seen.get(index) !== step.status && step.status !== 'queued') {
          seen.set(index, step.status);
          printLine(`  ${index + 1}. ${step.agent}: ${step.status}`);
        }
      });
    }
    if (finished(run.status)) return run;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
}

async function runBasket(name: string, options: RunOptions): Promise<void> {
  const input = await readInput(options.input);
  const run = await connect(options).json<RunView>(
    'POST',
    `/v1/baskets/${encodeURIComponent(name)}/runs`,
    { headers: JSON_BODY, body: JSON.stringify({ input }) },
  );
  if (!options.follow) {
    if (options.json) return printJson(run);
    printLine(`run ${run.id}: ${run.status}`);
    return note(`follow it: bucket runs show ${run.id}`);
  }
  if (!options.json) printLine(`run ${run.id}: queued`);
  const done = await follow(options, run.id);
  if (options.json) printJson(done);
  else printRun(done);
  if (done.status !== 'succeeded') throw failedRun(done);
}

async function showRun(id: string, options: RemoteOptions): Promise<void> {
  const run = await connect(options).json<RunView>('GET', `/v1/runs/${encodeURIComponent(id)}`);
  if (options.json) return printJson(run);
  printRun(run);
}

interface ListOptions extends RemoteOptions {
  readonly basket?: string;
  readonly agent?: string;
  readonly status?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

async function listRuns(options: ListOptions): Promise<void> {
  const query = new URLSearchParams();
  if (options.basket) query.set('basket', options.basket);
  if (options.agent) query.set('agent', options.agent);
  if (options.status) query.set('status', options.status);
  query.set('limit', String(options.limit ?? 20));
  if (options.cursor) query.set('cursor', options.cursor);
  const answer = await connect(options).json<{ runs: RunView[]; nextCursor: string | null }>(
    'GET',
    `/v1/runs?${query.toString()}`,
  );
  if (options.json) return printJson(answer);
  if (answer.runs.length === 0) printLine('no runs');
  else {
    const rows = answer.runs.map((r) => [r.id, r.basket ?? r.agent ?? '?', r.status, r.createdAt]);
    printLine(formatTable([['ID', 'BASKET/AGENT', 'STATUS', 'CREATED'], ...rows]));
  }
  if (answer.nextCursor !== null) {
    note(`more runs: repeat with --cursor '${answer.nextCursor}'`);
  }
}

async function cancelRun(id: string, options: RemoteOptions): Promise<void> {
  const run = await connect(options).json<RunView>(
    'POST',
    `/v1/runs/${encodeURIComponent(id)}/cancel`,
  );
  if (options.json) return printJson(run);
  printLine(`run ${run.id}: ${finished(run.status) ? run.status : 'cancel requested'}`);
}

export function registerCore(program: Command): void {
  remoteOptions(program.command('agents').description('List the agents (built-in and http).'))
    .addHelpText('after', examples('bucket agents', 'bucket agents --json'))
    .action(listAgents);

  const baskets = program.command('baskets').description('Baskets: multi-agent workflows.');
  remoteOptions(baskets.command('list').description('List the baskets.'))
    .addHelpText('after', examples('bucket baskets list'))
    .action(listBaskets);
  remoteOptions(baskets.command('show <name>').description('Show one basket.'))
    .addHelpText('after', examples('bucket baskets show vehicle_care'))
    .action(showBasket);
  remoteOptions(
    baskets
      .command('run <name>')
      .description(
        'Run a basket; with --follow, wait and show each step (exit 1 unless it succeeds).',
      )
      .option('--input <file>', 'a JSON file with the run input, or - for stdin (default {})')
      .option('--follow', 'wait for the run and print its steps as they finish'),
  )
    .addHelpText(
      'after',
      examples(
        `echo '{"transactions":[{"amount":100},{"amount":-50}]}' | bucket baskets run finance_daily_check --input - --follow`,
      ),
    )
    .action(runBasket);

  const runs = program.command('runs').description('Runs of baskets and agents.');
  remoteOptions(runs.command('show <id>').description('Show a run: status, steps, output.'))
    .addHelpText('after', examples('bucket runs show 3f0c…'))
    .action(showRun);
  remoteOptions(
    runs
      .command('list')
      .description('List runs, the newest first (a product key: its own).')
      .option('--basket <name>', 'only this basket')
      .option('--agent <name>', 'only runs of this single agent')
      .option('--status <status>', 'queued, running, succeeded, failed, cancelled or timed_out')
      .option('--limit <n>', 'at most n runs (default 20)', positiveInteger)
      .option('--cursor <cursor>', 'continue a listing where a previous page stopped'),
  )
    .addHelpText(
      'after',
      examples(
        'bucket runs list --basket finance_daily_check --status failed',
        "bucket runs list --cursor 'WyIyMDI2LTEy…'",
      ),
    )
    .action(listRuns);
  remoteOptions(runs.command('cancel <id>').description('Cancel a queued or running run.'))
    .addHelpText('after', examples('bucket runs cancel 3f0c…'))
    .action(cancelRun);
}
