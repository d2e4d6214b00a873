/** `createBucket(config)`: wires the storage ports to adapters and the services to the gate. */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { VERSION, type BucketConfig } from './config.js';
import { Gate } from './gate/decide.js';
import { createSigner } from './audit/note.js';
import { loadSigningKey } from './audit/signing-key.js';
import { ArtifactService } from './services/artifacts/index.js';
import { AuditService } from './services/audit.js';
import { AuditLedger } from './services/ledger.js';
import { CertificationService } from './services/certification/index.js';
import { Coherence } from './services/coherence.js';
import { GateInfoService } from './services/gate-info.js';
import { GateHealth } from './services/gate-health.js';
import { EventLoopMonitor, fixedDelay, type EventLoopDelay } from './services/event-loop.js';
import { ExceptionService } from './services/exceptions.js';
import { IncidentService } from './services/incidents.js';
import { ModeService } from './services/modes.js';
import { ContentSweeper } from './services/content-sweeper.js';
import { HoldService } from './services/holds.js';
import { RETENTION_SCHEDULER, RetentionSweep } from './services/retention-sweep.js';
import { ScrubService } from './services/scrub.js';
import { DriftService } from './services/drift.js';
import { RateRefusals } from './services/rate-refusals.js';
import { Authorizer } from './services/authorize.js';
import { IntegrationService } from './services/integrations.js';
import { BucketMetrics } from './services/metrics.js';
import { EventService } from './services/events.js';
import { WebhookService } from './services/webhooks.js';
import { WebhookDispatcher } from './services/webhook-dispatch.js';
import { RETRY_SCHEDULE } from './domain/webhooks.js';
import { checkMasterKey, loadMasterKey } from './storage/master-key.js';
import { agentEndpointsFrom, CORE_PRINCIPAL, createCore, type Core } from './core/index.js';
import { SubjectKeys } from './services/subject-keys.js';
import { ErasureService } from './services/erasure.js';
import { eventSource } from './domain/events.js';
import { DecisionStats } from './services/stats.js';
import { ThreatService } from './services/threats.js';
import { KeyService } from './services/keys.js';
import { S3CredentialService } from './services/s3-credentials.js';
import { PolicyService } from './services/policies.js';
import { lockDataDir, makeDataDir, sharePrimaryLock } from './storage/data-dir-lock.js';
import { narrow, PRIVATE_DIR_MODE, writeOwnerKeyFile } from './storage/private-files.js';
import type { BlobStore, Limiter, MetadataStore } from './storage/ports.js';
import { blobStoreFor, limiterFor, metadataStoreFor } from './storage/factory.js';
import type { BucketAdapters } from './bucket-adapters.js';

export type { BucketAdapters } from './bucket-adapters.js';

export interface Bucket {
  readonly config: BucketConfig;
  readonly metadata: MetadataStore;
  readonly blobs: BlobStore;
  readonly limiter: Limiter;
  readonly gate: Gate;
  readonly authorizer: Authorizer;
  readonly policies: PolicyService;
  readonly keys: KeyService;
  /** S3 credentials of keys (SPEC §13), secrets wrapped by the key-encryption key. */
  readonly s3Credentials: S3CredentialService;
  readonly artifacts: ArtifactService;
  readonly integrations: IntegrationService;
  readonly threats: ThreatService;
  readonly audit: AuditService;
  /** The event bus's readers: pages and streams (SPEC §10). */
  readonly events: EventService;
  /** Webhooks (SPEC §10): subscriptions and their delivery log; the dispatcher delivers. */
  readonly webhooks: WebhookService;
  /** Removes contents no version records (a write refused after its blob was stored). */
  readonly sweeper: ContentSweeper;
  /** Legal holds (SPEC §8), checked from memory on every read and tombstone. */
  readonly holds: HoldService;
  /** The retention sweep (SPEC §8): scheduled, and on demand. */
  readonly retentionSweep: RetentionSweep;
  readonly erasures: ErasureService;
  readonly stats: DecisionStats;
  /** The seed's gate endpoints: the dry run, limits, rules and status (SPEC §4.2). */
  readonly gateInfo: GateInfoService;
  /** The Bucket's mode (SPEC §9), in memory for the gate, persisted and followed across nodes. */
  readonly modes: ModeService;
  /** Incidents (SPEC §9): `open(kind, evidence, {mode})` for the mechanisms that find failures. */
  readonly incidents: IncidentService;
  /** Policy exceptions (SPEC §9): requested, approved, reverted by the Bucket at expiry. */
  readonly exceptions: ExceptionService;
  /** The integrity scrub (SPEC §9): on demand and scheduled; `lastPassed()` for certification. */
  readonly scrub: ScrubService;
  /** Drift (SPEC §9): the signed baseline, checked every 60 s; started once routes exist. */
  readonly drift: DriftService;
  /** Fail-closed decisions of the last 60 s: the gate's status, `gate_failure` incidents. */
  readonly gateHealth: GateHealth;
  /** The live certification (SPEC §9): every check computed, cached for 10 s. */
  readonly certification: CertificationService;
  /** This process's event-loop delay: the latency limit (SPEC §15, http/shed.ts). */
  readonly eventLoop: EventLoopDelay;
  readonly metrics: BucketMetrics;
  /** Core (SPEC §11): agents, baskets and their runs. */
  readonly core: Core;
  readonly installationId: string;
  /** The owner key generated by this start (print it once), or null. */
  readonly newOwnerKey: string | null;
  /**
   * Before a request: where another process of this Bucket may have changed keys, the policy,
   * integrations, suspensions, holds or the mode (workers, issue 21), those are reloaded first;
   * undefined when there is nothing to wait for.
   */
  freshen(): Promise<void> | undefined;
  close(): Promise<void>;
}

export async function createBucket(
  config: BucketConfig,
  adapters: BucketAdapters = {},
): Promise<Bucket> {
  await makeDataDir(config.dataDir);
  // Created 0700; an older installation's wider folder is narrowed (docs/THREAT_MODEL.md).
  await narrow(config.dataDir, PRIVATE_DIR_MODE);
  const lock =
    adapters.primaryPid === undefined
      ? await lockDataDir(config.dataDir)
      : await sharePrimaryLock(config.dataDir, adapters.primaryPid);
  let metadata: MetadataStore | undefined;
  let blobs: BlobStore;
  let limiter: Limiter;
  try {
    metadata = adapters.metadata ?? (await metadataStoreFor(config));
    blobs = adapters.blobs ?? (await blobStoreFor(config));
    limiter = adapters.limiter ?? (await limiterFor(config));
  } catch (error) {
    await metadata?.close();
    await lock.release();
    throw error;
  }
  try {
    await metadata.init();
    await blobs.init();
    const installationId = await metadata.setSettingOnce(
      'installation_id',
      randomBytes(8).toString('hex'),
    );
    // The key-encryption key (SPEC §8, §12): a node given another one refuses to start.
    const masterKeyFile = config.masterKeyFile ?? join(config.dataDir, 'master.key');
    const masterKey = await loadMasterKey(masterKeyFile);
    await checkMasterKey(masterKey, masterKeyFile, metadata);
    const policies = new PolicyService(metadata);
    await policies.init();
    const now = adapters.now ?? Date.now;
    const holds = new HoldService(metadata, policies, now);
    await holds.init();
    const integrations = new IntegrationService(metadata, policies, (revoked) =>
      keys.forget(revoked),
    );
    await integrations.init();
    const keys = new KeyService(metadata, policies, integrations);
    const metrics = new BucketMetrics({ metadata, blobs, limiter });
    const threats = new ThreatService(metadata, policies, (records) =>
      metrics.observeThreatRecords(records),
    );
    await threats.init();
    const stats = new DecisionStats();
    const newOwnerKey = await keys.bootstrapOwner(config.ownerKey, (secret) =>
      writeOwnerKeyFile(config.dataDir, secret),
    );
    const signingKey = await loadSigningKey(
      config.auditKeyFile ?? join(config.dataDir, 'audit-signing.pem'),
      // A configured key file must exist; the default one is generated on first start (SPEC §12).
      { create: config.auditKeyFile === undefined },
    );
    const origin = config.auditOrigin ?? `bhiv-bucket/${installationId}`;
    const rateRefusals = new RateRefusals(threats);
    const ledger = new AuditLedger(metadata, {
      onRateRefusals: (refusals) => rateRefusals.observe(refusals),
    });
    const signer = createSigner(origin, signingKey.privateKey);
    const audit = new AuditService(metadata, {
      origin,
      signer,
      scanWindow: adapters.auditScanWindow,
    });
    await audit.init();
    const modes = new ModeService(metadata);
    await modes.init(await metadata.setSettingOnce('installed_at', new Date().toISOString()));
    const incidents = new IncidentService(metadata, modes, () => policies.versionNumber());
    const gateHealth = new GateHealth(incidents);
    // Nodes sharing a metadata store see each other's governance changes (issue 6).
    const coherence = metadata.sharedByNodes
      ? new Coherence(metadata, async () => {
          await policies.reload();
          await integrations.reload();
          await threats.reload();
          await holds.reload();
          await modes.reload();
          keys.forgetAll();
        })
      : null;
    await coherence?.start();
    const gate =
      adapters.gateInstance ??
      new Gate({ ...adapters.gate, policyProblem: () => policies.problem() });
    const authorizer = new Authorizer(
      gate,
      policies,
      {
        integrationOf: (product, id) => integrations.lookup(product, id),
        isSuspended: (principalId) => threats.isSuspended(principalId),
        observe(ctx, outcome) {
          stats.record(ctx.requestId, outcome.decision.allow);
          if (outcome.code === 'gate_unavailable') {
            gateHealth.failedClosed(outcome.decision.reasons[0]?.message ?? 'the gate failed');
          }
          metrics.observeDecision(outcome.decision);
          // Rate refusals are recorded per principal per second, with their audit entries.
          const refusedRate =
            outcome.decision.status === 429 &&
            outcome.decision.threats.every((found) => found.id === 'T5');
          return outcome.decision.threats.length > 0 && !refusedRate
            ? // Core's own writes count toward no suspension (SPEC §11).
              threats.observe(ctx.requestId, outcome.decision, ctx.principal !== CORE_PRINCIPAL)
            : undefined;
        },
      },
      ledger,
      () => modes.mode(),
    );
    const events = new EventService(metadata, {
      source: eventSource(installationId),
      // A heartbeat well within the idle timeout, or an idle stream would be cut by it.
      heartbeatMs:
        adapters.eventHeartbeatMs ?? Math.min(15_000, (config.idleTimeoutSeconds * 1000) / 2),
      onSubscribers: (delta) => metrics.observeStreamSubscribers(delta),
    });
    // Halted answers nothing but the pinned exceptions (SPEC §9): open streams end at once.
    modes.onChange((state) => {
      if (state.mode === 'halted') events.close();
    });
    const webhooks = new WebhookService(metadata, masterKey, policies, () => dispatcher.changed());
    const dispatcher = new WebhookDispatcher(metadata, {
      source: eventSource(installationId),
      retry: { ...RETRY_SCHEDULE, ...adapters.webhooks?.retry },
      egressAllow: () => policies.current().document.egress?.allow ?? [],
      secretOf: (webhook) => webhooks.secretOf(webhook),
      pollMs: adapters.webhooks?.pollMs,
      leaseMs: adapters.webhooks?.leaseMs,
      timeoutMs: adapters.webhooks?.timeoutMs,
      resolver: adapters.webhooks?.resolver,
      observe: (outcome, lag) => metrics.observeWebhookDelivery(outcome, lag),
    });
    await dispatcher.start();
    const sweeper = new ContentSweeper(metadata, blobs);
    const artifacts = new ArtifactService(metadata, blobs, limiter, policies, authorizer, {
      inlineMaxBytes: config.inlineMaxBytes,
      alert: (request, found) =>
        threats.recordUncounted(request.requestId, request.principal, found),
      holds,
      now,
      subjectKeys: new SubjectKeys(metadata, masterKey),
      // One incident per content while it is open; the first switches the Bucket to read_only.
      onIntegrityFailure: (failure) =>
        void incidents
          .openUnlessOpen(
            'integrity',
            { ...failure },
            {
              same: (open) => open.evidence['sha256'] === failure.sha256,
            },
          )
          .catch(() => undefined),
    });
    const retentionSweep = new RetentionSweep(metadata, blobs, policies, holds, {
      now,
      intervalMs: adapters.retentionSweepIntervalMs ?? config.retentionSweepIntervalMs,
      scheduledDecision: async () => {
        const requestId = `retention-sweep-${randomUUID()}`;
        const ctx = authorizer.context(
          { requestId, principal: RETENTION_SCHEDULER },
          'retention.sweep',
        );
        const { decision } = await authorizer.authorize(ctx);
        return { decision, requestId };
      },
    });
    const erasures = new ErasureService(metadata, blobs, {
      now,
      alert: (requestId, principal, found) => threats.recordUncounted(requestId, principal, found),
    });
    const exceptions = new ExceptionService(metadata, policies, {
      now,
      pollMs: adapters.exceptionPollMs,
    });
    await exceptions.start();
    const drift = new DriftService(metadata, audit, policies, incidents, {
      signer,
      codeVersion: adapters.codeVersion ?? VERSION,
      now,
      intervalMs: adapters.driftIntervalMs,
    });
    const scrub = new ScrubService(metadata, incidents, {
      now,
      intervalMs: adapters.scrubIntervalMs ?? config.scrubIntervalMs,
      throttle: adapters.scrubThrottle,
      verifier: signer,
      openContent: (stored, report) => artifacts.openWhole(stored, report),
      checkpoint: async () => {
        const view = await audit.checkpoint();
        return { size: view.size, rootHash: view.rootHash };
      },
      drift: () => drift.drifted(),
    });
    await scrub.init();
    const core = createCore(metadata, blobs, artifacts, policies, {
      ...adapters.core, // the tests' and bench's poll, lease, resolver, step observer
      now,
      running: () => modes.mode() === 'normal',
      endpoints: adapters.core?.endpoints ?? agentEndpointsFrom(process.env),
      observeStart: (waitMs) => metrics.observeRunStart(waitMs),
    });
    await core.engine.start();
    const gateInfo = new GateInfoService({
      gate,
      authorizer,
      policies,
      integrations,
      metadata,
      limiter,
      stats,
      threats,
      modes,
      gateHealth,
    });
    const certification = new CertificationService({
      ...{ metadata, gate, authorizer, policies, audit, ledger, incidents, scrub, drift },
      ...{ exceptions, gateHealth, gateInfo, now, verifier: signer },
    });
    const eventLoop = adapters.eventLoopDelayMs
      ? fixedDelay(adapters.eventLoopDelayMs)
      : new EventLoopMonitor();
    return {
      config,
      metadata,
      blobs,
      limiter,
      gate,
      authorizer,
      policies,
      keys,
      s3Credentials: new S3CredentialService(metadata, masterKey, now, keys),
      artifacts,
      integrations,
      threats,
      audit,
      events,
      webhooks,
      sweeper,
      holds,
      retentionSweep,
      erasures,
      stats,
      gateInfo,
      modes,
      incidents,
      exceptions,
      scrub,
      drift,
      gateHealth,
      certification,
      eventLoop,
      metrics,
      core,
      installationId,
      newOwnerKey,
      freshen: () => coherence?.freshen(),
      async close() {
        eventLoop.stop();
        await core.engine.close();
        coherence?.stop();
        await dispatcher.close();
        await sweeper.stop();
        await retentionSweep.stop();
        await exceptions.stop();
        drift.stop();
        await scrub.stop();
        await ledger.close().catch(() => {
          // As below: the aggregated 429s of the last second are lost with a failed store.
        });
        await audit.close().catch(() => {
          // Closing must go on: the store may be the thing that failed.
        });
        await limiter.close();
        await blobs.close();
        await metadata.close();
        await lock.release();
      },
    };
  } catch (error) {
    await metadata.close();
    await lock.release();
    throw error;
  }
}
