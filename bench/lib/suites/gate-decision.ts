/**
 * The gate's in-process decision of an allowed 1 KiB write (issue 3): both phases as the artifact
 * service runs them — headers (stages 1–6, target looked up), then the received body — on a context
 * built as `Authorizer.context` builds it, with the shipped default policy and an approved
 * integration. Measured in the bench process; no server, no storage (the lookup answers at once).
 * In rounds; the round with the median p99 is reported, every round's figures in the details.
 */
import { createHash } from 'node:crypto';
import type { IntegrationRecord } from '../../../src/domain/integration.js';
import type { PolicyVersion } from '../../../src/domain/policy.js';
import type { Principal } from '../../../src/domain/principal.js';
import {
  withTargetAndContent,
  type GateContext,
  type TargetState,
} from '../../../src/gate/context.js';
import { Gate } from '../../../src/gate/decide.js';
import { defaultPolicyVersion } from '../../../src/policy/load.js';
import type { Row } from '../report.js';
import { BENCH_CLASS, BENCH_PRODUCT } from '../servers.js';
import type { Suite } from '../suite.js';
import { GATE_DECISION_P99 } from '../targets.js';

const ONE_KIB = 1024;
const INTEGRATION_ID = 'bench';

const POLICY: PolicyVersion = defaultPolicyVersion();

const PRINCIPAL: Principal = {
  id: 'key_bench',
  kind: 'product',
  product: BENCH_PRODUCT,
  integrationId: INTEGRATION_ID,
};

/** What the bench's own set-up approves (bench/lib/servers.ts). */
const INTEGRATION: IntegrationRecord = {
  id: INTEGRATION_ID,
  type: 'api_client',
  product: BENCH_PRODUCT,
  classes: [BENCH_CLASS],
  dataSchema: { content_filter: 'none needed (bench)', retention_policy: 'class retention' },
  approvedAt: '2026-01-01T00:00:00.000Z',
  approvedBy: 'key_owner',
  revokedAt: null,
};

/** The header names autocannon's PUT carries, lower-case as Node gives them. */
const HEADER_NAMES = ['host', 'authorization', 'content-type', 'content-length'];
const NO_HEAD: TargetState = { head: null };
const loadTarget = () => Promise.resolve(NO_HEAD);
const CONTENT = {
  size: ONE_KIB,
  sha256: createHash('sha256').update(Buffer.alloc(ONE_KIB, 'b')).digest('hex'),
  // application/octet-stream is not inspected, so the service hands the gate no bytes.
  bytes: null,
};

/** The header-phase context of the n-th write, field for field as `Authorizer.context` builds it. */
function writeContext(n: number): GateContext {
  return {
    requestId: `req-${n}`,
    principal: PRINCIPAL,
    action: 'artifact.write',
    policy: POLICY,
    mode: 'normal',
    product: BENCH_PRODUCT,
    class: BENCH_CLASS,
    name: `bench/decide/${n}.bin`,
    contentType: 'application/octet-stream',
    declaredSize: ONE_KIB,
    meta: {},
    query: {},
    headerNames: HEADER_NAMES,
    preconditions: { ifNoneMatch: false, ifVersion: null },
    sha256Claim: null,
    integration: INTEGRATION,
    writeSlot: true,
  };
}

interface PhaseTimes {
  readonly header: Float64Array;
  readonly body: Float64Array;
  readonly denied: number;
  readonly seconds: number;
}

/** Decides `count` writes; the times in µs of each phase, and how many were not allowed. */
async function decideWrites(gate: Gate, count: number): Promise<PhaseTimes> {
  const header = new Float64Array(count);
  const body = new Float64Array(count);
  let denied = 0;
  const started = process.hrtime.bigint();
  for (let n = 0; n < count; n++) {
    const ctx = writeContext(n);
    const t0 = process.hrtime.bigint();
    const headerOutcome = await gate.decide(ctx, loadTarget);
    const t1 = process.hrtime.bigint();
    // The service's body phase: the header verdict, and the same context with the target and
    // the received content.
    const bodyOutcome = gate.decideBody(
      withTargetAndContent(ctx, headerOutcome.target ?? NO_HEAD, CONTENT),
      headerOutcome,
    );
    const t2 = process.hrtime.bigint();
    header[n] = Number(t1 - t0) / 1000;
    body[n] = Number(t2 - t1) / 1000;
    if (!headerOutcome.decision.allow || !bodyOutcome.decision.allow) denied++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { header, body, denied, seconds };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

function summary(times: Float64Array) {
  const sorted = Float64Array.from(times).sort();
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: percentile(sorted, 1),
  };
}

interface Round {
  readonly times: PhaseTimes;
  readonly write: ReturnType<typeof summary>;
}

export const gateDecision: Suite = {
  name: 'gate decision',
  async run({ profile, log }) {
    const gate = new Gate();
    const count = profile.gateDecisions;
    const roundCount = profile.gateRounds;
    log(
      `gate decisions: ${roundCount} round(s) of ${count} allowed 1 KiB writes in-process, ` +
        `after ${count / 4} to warm up`,
    );
    const warm = await decideWrites(gate, Math.ceil(count / 4));
    if (warm.denied > 0) throw new Error(`the gate denied ${warm.denied} bench writes`);
    const rounds: Round[] = [];
    for (let r = 1; r <= roundCount; r++) {
      const times = await decideWrites(gate, count);
      const write = summary(times.header.map((header, n) => header + (times.body[n] ?? 0)));
      log(
        `gate decisions, round ${r}: p50 ${write.p50.toFixed(2)} µs, p99 ${write.p99.toFixed(2)} µs`,
      );
      rounds.push({ times, write });
    }
    const byP99 = [...rounds].sort((a, b) => a.write.p99 - b.write.p99);
    const median = byP99[Math.floor((byP99.length - 1) / 2)] ?? rounds[0];
    if (!median) throw new Error('no gate decision round ran');
    const measured = median.times;
    const both = median.write;
    const details = {
      bucket: {
        decisions: count,
        seconds: measured.seconds,
        rounds: rounds.map((round) => ({ p50: round.write.p50, p99: round.write.p99 })),
        microseconds: {
          write: both,
          header: summary(measured.header),
          body: summary(measured.body),
        },
      },
    };
    const denied = rounds.reduce((sum, round) => sum + round.times.denied, 0);
    const note = denied > 0 ? { note: `${denied} writes were denied` } : {};
    const rows: Row[] = [
      { name: 'Gate decision p50, 1 KiB write', unit: 'µs', bucket: both.p50, bare: null, ...note },
      {
        name: 'Gate decision p99, 1 KiB write',
        unit: 'µs',
        bucket: both.p99,
        bare: null,
        target: GATE_DECISION_P99,
        ...note,
        details,
      },
      {
        name: 'Gate decisions per second',
        unit: 'dec/s',
        bucket: count / measured.seconds,
        bare: null,
        ...note,
      },
    ];
    return rows;
  },
};
