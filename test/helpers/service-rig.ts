/**
 * The services of a Bucket in process, without HTTP: an in-memory SQLite metadata store, file
 * blobs in a temporary directory, the memory limiter, the real gate, authorizer and ledger.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseEntry, type AuditEntry } from '../../src/audit/entry.js';
import { BucketError } from '../../src/domain/errors.js';
import type { Principal } from '../../src/domain/principal.js';
import { Gate } from '../../src/gate/decide.js';
import { ArtifactService } from '../../src/services/artifacts/index.js';
import type { PutArtifactRequest } from '../../src/services/artifacts/write.js';
import { Authorizer } from '../../src/services/authorize.js';
import { IntegrationService } from '../../src/services/integrations.js';
import { AuditLedger, type RateRefusalSecond } from '../../src/services/ledger.js';
import { PolicyService } from '../../src/services/policies.js';
import { FileBlobStore } from '../../src/storage/fs/blobs.js';
import { MemoryLimiter } from '../../src/storage/memory/limiter.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/metadata.js';
import { randomBytes } from 'node:crypto';
import { SubjectKeys } from '../../src/services/subject-keys.js';
import { MasterKey } from '../../src/storage/master-key.js';

export interface ServiceRig {
  readonly store: SqliteMetadataStore;
  readonly blobs: FileBlobStore;
  readonly limiter: MemoryLimiter;
  readonly policies: PolicyService;
  /** Integrations as the authorizer sees them (stage 2). */
  readonly integrations: IntegrationService;
  readonly ledger: AuditLedger;
  readonly authorizer: Authorizer;
  readonly artifacts: ArtifactService;
  /** The rate refusals the ledger reported, second by second. */
  readonly refusals: RateRefusalSecond[];
  /** The index of the first entry the test makes (the store's bootstrap entries come before). */
  readonly firstIndex: number;
  /** Every entry the test made, in index order. */
  entries(): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

/** A `core` key: bound to the `core` product, no integration needed (SPEC §1). */
export const CORE: Principal = {
  id: 'key_core',
  kind: 'core',
  product: 'core',
  integrationId: null,
};
export const OWNER: Principal = {
  id: 'key_owner',
  kind: 'owner',
  product: null,
  integrationId: null,
};
export const AUDITOR: Principal = {
  id: 'key_auditor',
  kind: 'auditor',
  product: null,
  integrationId: null,
};

export async function serviceRig(): Promise<ServiceRig> {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-services-'));
  const store = new SqliteMetadataStore(':memory:');
  await store.init();
  const blobs = new FileBlobStore(join(dir, 'blobs'));
  await blobs.init();
  const limiter = new MemoryLimiter();
  const policies = new PolicyService(store);
  await policies.init();
  // The store's own first entries (the shipped policy as version 1) come before the test's.
  const firstIndex = await store.auditSize();
  const refusals: RateRefusalSecond[] = [];
  const ledger = new AuditLedger(store, {
    onRateRefusals: async (seconds) => void refusals.push(...seconds),
  });
  const integrations = new IntegrationService(store, policies);
  await integrations.init();
  const authorizer = new Authorizer(
    new Gate(),
    policies,
    {
      integrationOf: (product, id) => integrations.lookup(product, id),
      isSuspended: () => false,
      observe: () => undefined,
    },
    ledger,
  );
  const artifacts = new ArtifactService(store, blobs, limiter, policies, authorizer, {
    inlineMaxBytes: 64 * 1024,
    subjectKeys: new SubjectKeys(store, new MasterKey(randomBytes(32))),
  });
  return {
    store,
    blobs,
    limiter,
    policies,
    integrations,
    ledger,
    authorizer,
    artifacts,
    refusals,
    firstIndex,
    async entries() {
      const found: AuditEntry[] = [];
      for await (const stored of store.auditRange(firstIndex, await store.auditSize())) {
        found.push(parseEntry(stored.canonical));
      }
      return found;
    },
    async close() {
      await ledger.close();
      await limiter.close();
      await blobs.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let requests = 0;

/** A request of `principal` on `class/name` of its product. */
export function on(principal: Principal, classId: string, name: string) {
  return {
    requestId: `req_${++requests}`,
    principal,
    product: principal.product ?? 'core',
    class: classId,
    name,
  };
}

/** A PUT of `body` (JSON unless said otherwise), with no preconditions or claims. */
export function put(
  principal: Principal,
  classId: string,
  name: string,
  body: Buffer | Readable,
  fields: Partial<PutArtifactRequest> = {},
): PutArtifactRequest {
  return {
    ...on(principal, classId, name),
    contentType: 'application/json',
    declaredSize: Buffer.isBuffer(body) ? body.length : null,
    meta: {},
    preconditions: { ifNoneMatch: false, ifVersion: null },
    sha256Claim: null,
    body: Buffer.isBuffer(body) ? Readable.from([body]) : body,
    ...fields,
  };
}

/** The BucketError `promise` is refused with; any other outcome fails the test. */
export async function refusal(promise: Promise<unknown>): Promise<BucketError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BucketError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}
