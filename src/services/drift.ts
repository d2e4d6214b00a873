/**
 * Drift (SPEC §9): the signed baseline recorded at first start (and by each upgrade, audited), and
 * the live comparison — at start, every 60 s and on each read. A component that differs is
 * explained when a mechanism changed it (the policy, and with it the class schemas, through the
 * API: drift-policy.ts); any other difference — a table altered, an index or trigger added, a
 * policy row edited in the database, the route table changed in place — opens a `drift` incident,
 * which switches the Bucket to read_only. The schema's digest is cached under the database's
 * own schema counter where it has one (SQLite), so a check costs a few small reads.
 */
import { baselineSignatureValid, signBaseline } from '../audit/baseline-signature.js';
import type { NoteSigner } from '../audit/note.js';
import {
  classSchemasDigest,
  driftStatus,
  routesDigest,
  schemaDigest,
  type BaselineDocument,
  type DriftBaseline,
  type DriftCheck,
  type DriftStatus,
  type RouteBinding,
} from '../domain/drift.js';
import type { MetadataStore } from '../storage/ports.js';
import type { AuditService } from './audit.js';
import { PolicyDrift } from './drift-policy.js';
import type { IncidentService } from './incidents.js';
import { bootstrapEntry } from './ledger.js';
import type { PolicyService } from './policies.js';

export const DRIFT_CHECK_MS = 60_000;

export interface DriftReport {
  readonly status: DriftStatus;
  readonly baseline: DriftBaseline & { readonly signatureValid: boolean };
  readonly checks: DriftCheck[];
  readonly checkedAt: string;
}

export interface DriftOptions {
  readonly signer: NoteSigner;
  readonly codeVersion: string;
  readonly now: () => number;
  readonly intervalMs?: number | undefined;
}

export class DriftService {
  private routes: RouteBinding[] | null = null;
  private schemaCache: { stamp: string; digest: string; version: number } | null = null;
  private readonly policy: PolicyDrift;
  private timer: NodeJS.Timeout | null = null;
  private last: DriftReport | null = null;

  constructor(
    private readonly metadata: MetadataStore,
    audit: AuditService,
    private readonly policies: PolicyService,
    private readonly incidents: IncidentService,
    private readonly options: DriftOptions,
  ) {
    this.policy = new PolicyDrift(metadata, audit);
  }

  /**
   * Takes the route table of the app (known once its routes are registered), records the first
   * baseline or an upgrade's, checks, and checks again every 60 s.
   */
  async start(routes: readonly RouteBinding[]): Promise<DriftReport> {
    this.routes = [...routes];
    await this.recordBaselineIfDue();
    const report = await this.check();
    this.timer = setInterval(() => {
      this.check().catch(() => undefined);
    }, this.options.intervalMs ?? DRIFT_CHECK_MS);
    this.timer.unref();
    return report;
  }

  /** Whether the check every 60 s is armed (certification F4). */
  get scheduled(): boolean {
    return this.timer !== null;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The last check's report (certification G6), or null before the first. */
  lastReport(): DriftReport | null {
    return this.last;
  }

  /**
   * Compares the live Bucket with the baseline; a drift opens an incident (one while it is open).
   * Null before the baseline exists (the app's routes not registered yet).
   */
  async check(): Promise<DriftReport> {
    const baseline = await this.metadata.latestBaseline();
    if (!baseline || !this.routes) {
      throw new Error('drift has no baseline yet: the server records it once its routes exist');
    }
    const signatureValid = baselineSignatureValid(baseline, this.options.signer);
    const schema = await this.schema();
    const policy = await this.policy.check(baseline);
    const liveClasses = classSchemasDigest(policy.document);
    const unexplained = (component: DriftCheck['component'], base: string, live: string) => ({
      component,
      baseline: base,
      live,
      explained: base === live,
      explanation: base === live ? null : 'not made by any mechanism of the Bucket',
    });
    const checks: DriftCheck[] = [
      unexplained('database_schema', baseline.components.database_schema, schema.digest),
      {
        component: 'policy',
        baseline: baseline.components.policy,
        live: policy.live,
        explained: policy.explained,
        explanation: policy.explanation,
      },
      unexplained('routes', baseline.components.routes, routesDigest(this.routes)),
      {
        component: 'class_schemas',
        baseline: baseline.components.class_schemas,
        live: liveClasses,
        explained: baseline.components.class_schemas === liveClasses || policy.explained,
        explanation:
          baseline.components.class_schemas === liveClasses
            ? null
            : policy.explained
              ? `changed with the policy: ${policy.explanation ?? ''}`
              : 'the class schemas changed outside the API',
      },
    ];
    const report: DriftReport = {
      status: driftStatus(checks, signatureValid),
      baseline: { ...baseline, signatureValid },
      checks,
      checkedAt: new Date(this.options.now()).toISOString(),
    };
    this.last = report;
    if (report.status === 'drifted') await this.openIncident(report);
    return report;
  }

  /** The status now (certification G6: `clean` or `explained` passes), checking. */
  async status(): Promise<DriftStatus> {
    return (await this.check()).status;
  }

  /** The components that drifted (for the scrub), checking now. */
  async drifted(): Promise<string[]> {
    if (!this.routes) return [];
    const report = await this.check();
    if (report.status !== 'drifted') return [];
    const components = report.checks.filter((c) => !c.explained).map((c) => c.component);
    return report.baseline.signatureValid ? components : ['baseline_signature', ...components];
  }

  private async openIncident(report: DriftReport): Promise<void> {
    const components = report.checks
      .filter((check) => !check.explained)
      .map((check) => ({
        component: check.component,
        baseline: check.baseline,
        live: check.live,
        explanation: check.explanation,
      }));
    await this.incidents.openUnlessOpen('drift', {
      baselineSequence: report.baseline.sequence,
      signatureValid: report.baseline.signatureValid,
      components,
    });
  }

  /** The schema's digest and version; recomputed only when the database's schema counter moved. */
  private async schema(): Promise<{ digest: string; version: number }> {
    const stamp = await this.metadata.schemaStamp();
    if (stamp !== null && this.schemaCache?.stamp === stamp) return this.schemaCache;
    const { version, objects } = await this.metadata.schemaDefinitions();
    const live = { digest: schemaDigest(objects), version };
    if (stamp !== null) this.schemaCache = { stamp, ...live };
    return live;
  }

  /**
   * Records the first baseline, or an upgrade's: a schema migrated or a new code version. An
   * upgrade's baseline takes the schema and routes as they are now and keeps the policy the last
   * baseline signed, so that a policy changed outside the API before the upgrade stays drift.
   */
  private async recordBaselineIfDue(): Promise<void> {
    const latest = await this.metadata.latestBaseline();
    const schema = await this.schema();
    if (
      latest &&
      latest.schemaVersion >= schema.version &&
      latest.codeVersion === this.options.codeVersion
    ) {
      return;
    }
    const live = this.policies.current();
    const components = {
      database_schema: schema.digest,
      routes: routesDigest(this.routes ?? []),
      policy: latest?.components.policy ?? live.hash,
      class_schemas: latest?.components.class_schemas ?? classSchemasDigest(live.document),
    };
    const document: BaselineDocument = {
      sequence: (latest?.sequence ?? 0) + 1,
      createdAt: new Date(this.options.now()).toISOString(),
      reason: latest
        ? `upgrade: schema ${latest.schemaVersion} → ${schema.version}, ` +
          `code ${latest.codeVersion} → ${this.options.codeVersion}`
        : 'first start',
      schemaVersion: schema.version,
      codeVersion: this.options.codeVersion,
      policyVersion: latest?.policyVersion ?? live.version,
      components,
    };
    const baseline = signBaseline(document, this.options.signer);
    const entry = bootstrapEntry(
      'drift.baseline',
      live.version,
      `drift baseline ${document.sequence} recorded (${document.reason})`,
      { governance: { drift: { ...document, signature: baseline.signature } } },
      'drift_baseline',
    );
    try {
      await this.metadata.insertBaseline(baseline, entry);
    } catch (error) {
      // Another node starting on the same database recorded it first.
      const now = await this.metadata.latestBaseline();
      if (!now || now.sequence < document.sequence) throw error;
    }
  }
}
