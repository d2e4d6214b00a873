/**
 * `bucket status`: the server's health (`GET /health`, no key needed) and, with a key, every
 * enforced limit with its live reading and band (`GET /v1/metrics/scale-status`, SPEC §7).
 */
import type { Command } from 'commander';
import { errorAnswer, ServerError, type BucketClient } from '../client.js';
import { CliError } from '../errors.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import { connect, examples, remoteOptions, type RemoteOptions } from '../remote.js';

interface BackendReading {
  readonly kind: string;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly error?: string;
}

type BackendRole = 'metadata' | 'blobs' | 'limiter';

interface Health {
  readonly status: 'healthy' | 'degraded' | 'unhealthy';
  readonly version: string;
  readonly governance: { gate: string; policyVersion: number; mode: string };
  readonly backends: Record<BackendRole, BackendReading>;
  readonly audit: { size: number | null; lastCheckpointAt: string | null };
}

interface LimitReading {
  readonly name: string;
  readonly limit: number;
  readonly current: number;
  readonly ratio: number;
  readonly status: 'GREEN' | 'YELLOW' | 'ORANGE' | 'RED';
}

/** `/health` answers 503 with the same document when the Bucket is unhealthy. */
function unhealthyAnswer(error: unknown): Health | null {
  return errorAnswer<Health>(
    error,
    503,
    (answer) => answer.status === 'unhealthy' && Boolean(answer.backends),
  );
}

function failingBackends(health: Health): string[] {
  return Object.entries(health.backends)
    .filter(([, backend]) => !backend.ok)
    .map(([role, backend]) => `${role} (${backend.kind}): ${backend.error ?? 'not ok'}`);
}

function printHealth(health: Health): void {
  const { governance, audit } = health;
  const checkpoint = audit.lastCheckpointAt ?? 'none yet';
  printLine(
    formatTable([
      ['status:', health.status],
      ['version:', health.version],
      [
        'governance:',
        `gate ${governance.gate}, mode ${governance.mode}, policy v${governance.policyVersion}`,
      ],
      [
        'audit log:',
        audit.size === null
          ? 'unreadable (the metadata store does not answer)'
          : `${audit.size} entries, last checkpoint ${checkpoint}`,
      ],
    ]),
  );
  printLine('');
  const backends = Object.entries(health.backends);
  // The ERROR column only when there is one, so that a healthy table has no empty column.
  const failing = backends.some(([, backend]) => !backend.ok);
  const rows = backends.map(([role, backend]) => [
    role,
    backend.kind,
    backend.ok ? 'ok' : 'FAILING',
    `${backend.latencyMs} ms`,
    ...(failing ? [backend.error ?? ''] : []),
  ]);
  const header = ['BACKEND', 'KIND', 'STATE', 'LATENCY', ...(failing ? ['ERROR'] : [])];
  printLine(formatTable([header, ...rows]));
}

function printLimits(limits: readonly LimitReading[]): void {
  const rows = limits.map((reading) => [
    reading.name,
    String(reading.current),
    String(reading.limit),
    `${Math.round(reading.ratio * 100)}%`,
    reading.status,
  ]);
  printLine(formatTable([['LIMIT', 'CURRENT', 'MAX', 'USED', 'BAND'], ...rows]));
}

/** The limits, or null when the key may not read them (ai_agent and core keys: 403). */
async function scaleLimits(client: BucketClient): Promise<LimitReading[] | null> {
  try {
    return (await client.json<{ limits: LimitReading[] }>('GET', '/v1/metrics/scale-status'))
      .limits;
  } catch (error) {
    if (!(error instanceof ServerError) || error.status !== 403) throw error;
    // The health was what was asked for; the limits are an extra this key is not shown.
    note(`this key may not read the scale limits (${error.envelope.message})`);
    return null;
  }
}

async function status(options: RemoteOptions): Promise<void> {
  const client = connect(options, process.env, { keyOptional: true });
  let health: Health;
  try {
    health = await client.json<Health>('GET', '/health');
  } catch (error) {
    const unhealthy = unhealthyAnswer(error);
    if (!unhealthy) throw error;
    if (options.json) printJson({ health: unhealthy, limits: null });
    else printHealth(unhealthy);
    throw new CliError(`the Bucket is unhealthy: ${failingBackends(unhealthy).join('; ')}`);
  }
  if (options.json) {
    const limits = client.hasKey ? await scaleLimits(client) : null;
    return printJson({ health, limits });
  }
  printHealth(health);
  if (health.status !== 'healthy') {
    note(`the Bucket is ${health.status}: ${failingBackends(health).join('; ')}`);
  }
  // The limits need a key (owner, executor, auditor or product); without one, health is all.
  if (!client.hasKey) {
    return note('set BUCKET_KEY (or pass --key) to see the rate and concurrency limits too');
  }
  const limits = await scaleLimits(client);
  if (limits === null) return;
  printLine('');
  printLimits(limits);
}

export function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .description(
      "Show the Bucket's health — version, governance mode, policy version, each backend and the " +
        'audit log — with no key needed; with a key, also every rate and concurrency limit with ' +
        'its live reading and band. Exit 0 when healthy or degraded, 1 when unhealthy.',
    );
  remoteOptions(command)
    .addHelpText(
      'after',
      examples(
        'bucket status',
        'BUCKET_URL=https://bucket.internal:8080 bucket status',
        'bucket status --json',
      ),
    )
    .action(status);
}
