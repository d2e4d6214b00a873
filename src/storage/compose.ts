/**
 * One metadata store out of its per-port parts: the composition both adapters share. An adapter's
 * metadata.ts keeps its lifecycle (opening, migrations, settings, snapshots) and hands its parts
 * — one object per port, each implementing that port exactly — to `composePorts`.
 */
import type {
  ArtifactStore,
  AuditStore,
  EventStore,
  ExceptionStore,
  GovernanceStore,
  IntegrityStore,
  KeyStore,
  MetadataStore,
  ModeStore,
  PolicyStore,
  RetentionStore,
  RunStore,
  S3Store,
  StoreLifecycle,
  SubjectStore,
  WebhookStore,
} from './ports.js';

/** The part of a metadata store each port is served by. */
export interface MetadataParts {
  readonly keys: KeyStore;
  readonly policies: PolicyStore;
  readonly artifacts: ArtifactStore;
  readonly governance: GovernanceStore;
  readonly audit: AuditStore;
  readonly events: EventStore;
  readonly retention: RetentionStore;
  readonly subjects: SubjectStore;
  readonly modes: ModeStore;
  readonly webhooks: WebhookStore;
  readonly exceptions: ExceptionStore;
  readonly integrity: IntegrityStore;
  readonly runs: RunStore;
  readonly s3: S3Store;
}

/** Every member of a metadata store that a part serves: all but its lifecycle. */
export type PortMembers = Omit<MetadataStore, keyof StoreLifecycle>;

/**
 * Each port's methods bound once to the part that serves them: a call through the composed store
 * costs one bound call, no closure and no lookup of the part. Typed as the ports themselves, so
 * the compiler refuses a member left out.
 */
function bindPorts(parts: MetadataParts): PortMembers {
  const { keys, policies, artifacts, governance, audit, events, retention, modes, webhooks } =
    parts;
  const { exceptions, integrity, runs, subjects, s3 } = parts;
  return {
    insertKey: keys.insertKey.bind(keys),
    findKeyByHash: keys.findKeyByHash.bind(keys),
    getKey: keys.getKey.bind(keys),
    listKeys: keys.listKeys.bind(keys),
    revokeKey: keys.revokeKey.bind(keys),
    setKeyHash: keys.setKeyHash.bind(keys),

    latestPolicy: policies.latestPolicy.bind(policies),
    insertPolicy: policies.insertPolicy.bind(policies),
    listPolicies: policies.listPolicies.bind(policies),
    getPolicy: policies.getPolicy.bind(policies),

    hasArtifacts: artifacts.hasArtifacts.bind(artifacts),
    getHead: artifacts.getHead.bind(artifacts),
    getVersion: artifacts.getVersion.bind(artifacts),
    readInline: artifacts.readInline.bind(artifacts),
    getForRead: artifacts.getForRead.bind(artifacts),
    listVersions: artifacts.listVersions.bind(artifacts),
    listVersionsDescending: artifacts.listVersionsDescending.bind(artifacts),
    listArtifacts: artifacts.listArtifacts.bind(artifacts),
    commitVersion: artifacts.commitVersion.bind(artifacts),
    commitVersionsAtomically: artifacts.commitVersionsAtomically.bind(artifacts),
    usage: artifacts.usage.bind(artifacts),
    usageFacts: artifacts.usageFacts.bind(artifacts),
    usageByProduct: artifacts.usageByProduct.bind(artifacts),
    isContentReferenced: artifacts.isContentReferenced.bind(artifacts),
    allVersions: artifacts.allVersions.bind(artifacts),
    countVersions: artifacts.countVersions.bind(artifacts),
    subjectVersions: artifacts.subjectVersions.bind(artifacts),

    insertIntegration: governance.insertIntegration.bind(governance),
    getIntegration: governance.getIntegration.bind(governance),
    listIntegrations: governance.listIntegrations.bind(governance),
    revokeIntegration: governance.revokeIntegration.bind(governance),
    insertThreatRecords: governance.insertThreatRecords.bind(governance),
    countCriticalRequests: governance.countCriticalRequests.bind(governance),
    threatCounts: governance.threatCounts.bind(governance),
    recentThreats: governance.recentThreats.bind(governance),
    suspendKey: governance.suspendKey.bind(governance),
    reinstateKey: governance.reinstateKey.bind(governance),
    listSuspensions: governance.listSuspensions.bind(governance),

    appendAudit: audit.appendAudit.bind(audit),
    auditSize: audit.auditSize.bind(audit),
    auditSubtrees: audit.auditSubtrees.bind(audit),
    auditEntry: audit.auditEntry.bind(audit),
    auditEntries: audit.auditEntries.bind(audit),
    auditRange: audit.auditRange.bind(audit),
    auditRangeIndexed: audit.auditRangeIndexed.bind(audit),
    insertCheckpoint: audit.insertCheckpoint.bind(audit),
    latestCheckpoint: audit.latestCheckpoint.bind(audit),
    checkpoints: audit.checkpoints.bind(audit),

    events: events.events.bind(events),
    latestEventId: events.latestEventId.bind(events),
    watchEvents: events.watchEvents.bind(events),

    insertHold: retention.insertHold.bind(retention),
    liftHold: retention.liftHold.bind(retention),
    listHolds: retention.listHolds.bind(retention),
    setRetention: retention.setRetention.bind(retention),
    retentionDue: retention.retentionDue.bind(retention),
    purgeVersion: retention.purgeVersion.bind(retention),
    exclusively: retention.exclusively.bind(retention),
    liveSubjectKey: subjects.liveSubjectKey.bind(subjects),
    subjectKey: subjects.subjectKey.bind(subjects),
    eraseSubject: subjects.eraseSubject.bind(subjects),
    getErasure: subjects.getErasure.bind(subjects),
    listErasures: subjects.listErasures.bind(subjects),
    currentMode: modes.currentMode.bind(modes),
    setMode: modes.setMode.bind(modes),
    openIncident: modes.openIncident.bind(modes),
    resolveIncident: modes.resolveIncident.bind(modes),
    listIncidents: modes.listIncidents.bind(modes),

    insertException: exceptions.insertException.bind(exceptions),
    getException: exceptions.getException.bind(exceptions),
    listExceptions: exceptions.listExceptions.bind(exceptions),
    decideException: exceptions.decideException.bind(exceptions),
    dueExceptions: exceptions.dueExceptions.bind(exceptions),
    expireException: exceptions.expireException.bind(exceptions),
    insertScrub: integrity.insertScrub.bind(integrity),
    saveScrub: integrity.saveScrub.bind(integrity),
    getScrub: integrity.getScrub.bind(integrity),
    latestScrub: integrity.latestScrub.bind(integrity),
    abandonScrubs: integrity.abandonScrubs.bind(integrity),
    latestBaseline: integrity.latestBaseline.bind(integrity),
    insertBaseline: integrity.insertBaseline.bind(integrity),
    schemaDefinitions: integrity.schemaDefinitions.bind(integrity),
    schemaStamp: integrity.schemaStamp.bind(integrity),
    insertWebhook: webhooks.insertWebhook.bind(webhooks),
    getWebhook: webhooks.getWebhook.bind(webhooks),
    listWebhooks: webhooks.listWebhooks.bind(webhooks),
    deleteWebhook: webhooks.deleteWebhook.bind(webhooks),
    claimWebhooks: webhooks.claimWebhooks.bind(webhooks),
    advanceWebhook: webhooks.advanceWebhook.bind(webhooks),
    recordAttempt: webhooks.recordAttempt.bind(webhooks),
    disableWebhook: webhooks.disableWebhook.bind(webhooks),
    releaseWebhook: webhooks.releaseWebhook.bind(webhooks),
    webhookDeliveries: webhooks.webhookDeliveries.bind(webhooks),

    insertRun: runs.insertRun.bind(runs),
    getRun: runs.getRun.bind(runs),
    listRuns: runs.listRuns.bind(runs),
    claimRuns: runs.claimRuns.bind(runs),
    saveRun: runs.saveRun.bind(runs),
    renewRuns: runs.renewRuns.bind(runs),
    requestCancel: runs.requestCancel.bind(runs),
    attachRecord: runs.attachRecord.bind(runs),
    releaseRuns: runs.releaseRuns.bind(runs),

    insertS3Credential: s3.insertS3Credential.bind(s3),
    getS3Credential: s3.getS3Credential.bind(s3),
    listS3Credentials: s3.listS3Credentials.bind(s3),
    revokeS3Credential: s3.revokeS3Credential.bind(s3),
    getS3Etag: s3.getS3Etag.bind(s3),
    insertS3Upload: s3.insertS3Upload.bind(s3),
    getS3Upload: s3.getS3Upload.bind(s3),
    listS3Uploads: s3.listS3Uploads.bind(s3),
    putS3Part: s3.putS3Part.bind(s3),
    listS3Parts: s3.listS3Parts.bind(s3),
    sumS3PartSizes: s3.sumS3PartSizes.bind(s3),
    claimS3Upload: s3.claimS3Upload.bind(s3),
    releaseS3Upload: s3.releaseS3Upload.bind(s3),
    deleteS3Upload: s3.deleteS3Upload.bind(s3),
    staleS3Uploads: s3.staleS3Uploads.bind(s3),
  };
}

// The port members are declared here and defined on each instance by composePorts() — every one,
// since bindPorts() is typed as all of them — once the adapter's constructor has built its parts
// (which needs its open database, so they cannot be handed to this constructor).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface ComposedMetadataStore extends PortMembers {}

/** A metadata store whose ports are served by its parts; subclasses supply the lifecycle. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export abstract class ComposedMetadataStore {
  /** Serves every port from `parts`; called once, at the end of the adapter's constructor. */
  protected composePorts(parts: MetadataParts): void {
    // Defined rather than copied with Object.assign: V8 turns an object given this many properties
    // by Object.assign into a slow (dictionary) one, and every call through it would pay for that.
    Object.defineProperties(this, Object.getOwnPropertyDescriptors(bindPorts(parts)));
  }
}
