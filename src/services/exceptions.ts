/**
 * Policy exceptions (SPEC §9, the seed's "product urgency"; docs/decisions/0032). A product key
 * (for its own product) or the owner requests a time-boxed patch of the policy; one that does not
 * apply, makes an invalid policy or breaks a floor is refused at once (400 `invalid_exception`).
 * Only the owner's approval applies it, to the live document, as a policy version stored with the
 * approval; at `expiresAt` the Bucket itself applies the reverting version. Expiry is polled from
 * the database (every `pollMs`, and at start), so it survives restarts, and is a conditional
 * UPDATE, so that of several nodes exactly one reverts.
 */
import { randomUUID } from 'node:crypto';
import { BucketError } from '../domain/errors.js';
import { MAX_EXCEPTION_MINUTES, type PolicyException } from '../domain/exceptions.js';
import type { PolicyDocument, PolicyVersion } from '../domain/policy.js';
import type { Principal } from '../domain/principal.js';
import { applyJsonPatch, jsonPatch, type JsonPatchOperation } from '../policy/diff.js';
import { floorBreaches } from '../policy/floors.js';
import { applyRequestedPatch, sameJson, valueAt } from '../policy/patch.js';
import { policyErrors } from '../policy/validate.js';
import type { ChangeEntry, MetadataStore } from '../storage/ports.js';
import { bootstrapEntry, withEntryMembers } from './ledger.js';
import { describe, type PolicyService } from './policies.js';

export interface ExceptionRequest {
  readonly title: string;
  readonly justification: string;
  readonly patch: readonly unknown[];
  readonly durationMinutes: number;
}

export interface ExceptionOptions {
  readonly now: () => number;
  /** How often the database is asked for expired exceptions (within 5 s of expiry: SPEC §9). */
  readonly pollMs?: number;
}

const DECIDED = (id: string) =>
  new BucketError('exception_decided', `exception ${id} is no longer pending`);

export class ExceptionService {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly policies: PolicyService,
    private readonly options: ExceptionOptions,
  ) {}

  private nowIso(): string {
    return new Date(this.options.now()).toISOString();
  }

  async request(
    body: ExceptionRequest,
    principal: Pick<Principal, 'id' | 'kind' | 'product'>,
    entry?: ChangeEntry,
  ): Promise<PolicyException> {
    const { durationMinutes } = body;
    if (!Number.isInteger(durationMinutes) || durationMinutes < 1) {
      throw new BucketError('invalid_exception', 'durationMinutes must be 1 … 10080');
    }
    if (durationMinutes > MAX_EXCEPTION_MINUTES) {
      throw new BucketError('invalid_exception', 'durationMinutes must be 1 … 10080');
    }
    await this.policies.reload();
    patchedDocument(this.policies.current().document, body.patch);
    const exception: PolicyException = {
      id: randomUUID(),
      status: 'pending',
      title: body.title,
      justification: body.justification,
      patch: body.patch,
      durationMinutes,
      product: principal.kind === 'product' ? principal.product : null,
      requestedBy: principal.id,
      requestedAt: this.nowIso(),
      decidedBy: null,
      decidedAt: null,
      reason: null,
      policyVersion: null,
      expiresAt: null,
      revertPatch: null,
      revertVersion: null,
      expiredAt: null,
    };
    const members = { governance: { exceptionId: exception.id, status: 'pending' } };
    await this.metadata.insertException(exception, entry && withEntryMembers(entry, members));
    return exception;
  }

  async list(product?: string): Promise<PolicyException[]> {
    return this.metadata.listExceptions(product);
  }

  async get(id: string): Promise<PolicyException> {
    const exception = await this.metadata.getException(id);
    if (!exception) throw new BucketError('exception_not_found', `no exception ${id}`);
    return exception;
  }

  async reject(id: string, reason: string, by: string, entry?: ChangeEntry) {
    await this.pending(id);
    const members = { governance: { exceptionId: id, status: 'rejected' } };
    const decided = await this.metadata.decideException(
      id,
      {
        status: 'rejected',
        by,
        at: this.nowIso(),
        reason,
        expiresAt: null,
        revertPatch: null,
        policy: null,
      },
      entry && withEntryMembers(entry, members),
    );
    if (!decided) throw DECIDED(id);
    return decided;
  }

  /** Applies the patch to the live document as a version marked with the exception (re-checked). */
  async approve(id: string, reason: string, by: string, entry?: ChangeEntry) {
    const exception = await this.pending(id);
    const at = this.options.now();
    const expiresAt = new Date(at + exception.durationMinutes * 60_000).toISOString();
    let revertPatch: JsonPatchOperation[] = [];
    const members = { governance: { exceptionId: id, status: 'approved', expiresAt } };
    let decided: PolicyException | null = null;
    const result = await this.policies.change(
      (live) => {
        const document = patchedDocument(live.document, exception.patch);
        revertPatch = jsonPatch(document, live.document);
        return { document, reason: `exception ${id} until ${expiresAt}: ${exception.title}`, by };
      },
      entry && withEntryMembers(entry, members),
      async (policy, withPolicy) => {
        decided = await this.metadata.decideException(
          id,
          {
            status: 'approved',
            by,
            at: new Date(at).toISOString(),
            reason,
            expiresAt,
            revertPatch,
            policy,
          },
          withPolicy,
        );
        if (!decided) throw DECIDED(id);
      },
    );
    if (!result.changed) {
      throw new BucketError('invalid_exception', 'the patch changes nothing in the live policy');
    }
    return decided ?? (await this.get(id));
  }

  private async pending(id: string): Promise<PolicyException> {
    const exception = await this.get(id);
    if (exception.status !== 'pending') throw DECIDED(id);
    return exception;
  }

  /** Reverts every exception due by now; resolves to how many this node expired. */
  expireDue(): Promise<number> {
    this.sweeping ??= this.sweep().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async sweep(): Promise<number> {
    let expired = 0;
    for (const exception of await this.metadata.dueExceptions(this.nowIso())) {
      if (await this.expire(exception)) expired += 1;
    }
    return expired;
  }

  /**
   * The reverting version: the reverse patch computed at approval, less its operations on paths
   * the live document no longer holds the exception's value at (changed since by the owner, whose
   * later change stands). When nothing is left, or the result is refused, the exception expires
   * with no reverting version, and the entry says why.
   */
  private async expire(exception: PolicyException): Promise<boolean> {
    const at = this.nowIso();
    const applied = exception.policyVersion
      ? await this.metadata.getPolicy(exception.policyVersion)
      : null;
    const ops = exception.revertPatch ?? [];
    const entryOf = (version: number, governance: Record<string, unknown>) =>
      bootstrapEntry(
        'exception.expire',
        version,
        `exception ${exception.id} expired at ${exception.expiresAt ?? at}`,
        { governance: { exceptionId: exception.id, status: 'expired', ...governance } },
        'exception_expiry',
      );
    let skipped: string[] = [];
    let stored = false;
    try {
      const result = await this.policies.change(
        (live) => {
          const kept = ops.filter((op) => unchangedSince(live.document, applied, op.path));
          skipped = ops.filter((op) => !kept.includes(op)).map((op) => op.path);
          return {
            document: revertedDocument(live.document, kept),
            reason: `expiry of exception ${exception.id}`,
            by: 'system',
          };
        },
        entryOf(this.policies.current().version, { skipped }),
        async (policy, entry) => {
          if (!entry || !(await this.metadata.expireException(exception.id, at, policy, entry))) {
            throw DECIDED(exception.id);
          }
          stored = true;
        },
      );
      if (result.changed) return stored;
    } catch (error) {
      // A refused reverting version expires unreverted; anything else is retried next poll.
      if (!(error instanceof BucketError) || !REFUSED.has(error.code)) throw error;
      if (error.code === 'exception_decided') return false;
      skipped = [`not reverted: ${error.message}`];
    }
    const entry = entryOf(this.policies.current().version, { skipped, reverted: false });
    return (await this.metadata.expireException(exception.id, at, null, entry)) !== null;
  }

  /** Starts the poll; the first sweep runs at once (an exception expired while stopped). */
  async start(): Promise<void> {
    await this.expireDue().catch(() => 0);
    this.timer = setInterval(
      () => void this.expireDue().catch(() => 0),
      this.options.pollMs ?? 1000,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping?.catch(() => 0);
  }
}

/** The live document with `patch` applied, or 400 `invalid_exception` with every reason. */
function patchedDocument(live: PolicyDocument, patch: readonly unknown[]): PolicyDocument {
  const patched = applyRequestedPatch(live, patch);
  if ('errors' in patched) {
    throw new BucketError('invalid_exception', describe(patched.errors), {
      details: { errors: patched.errors },
    });
  }
  const errors = policyErrors(patched.document);
  if (errors.length > 0) {
    throw new BucketError('invalid_exception', describe(errors), { details: { errors } });
  }
  const document = patched.document as PolicyDocument;
  const floors = floorBreaches(document);
  if (floors.length > 0) {
    throw new BucketError('invalid_exception', `breaks a floor: ${describe(floors)}`, {
      details: { floors },
    });
  }
  return document;
}

const REFUSED = new Set([
  'exception_decided',
  'invalid_exception',
  'invalid_policy',
  'policy_floor',
  'policy_in_use',
]);

function revertedDocument(live: PolicyDocument, ops: readonly JsonPatchOperation[]): unknown {
  try {
    return applyJsonPatch(live, ops);
  } catch (error) {
    throw new BucketError('invalid_exception', (error as Error).message);
  }
}

/** Whether `live` still holds at `path` what the exception's version set there. */
function unchangedSince(live: unknown, applied: PolicyVersion | null, path: string): boolean {
  if (!applied) return false;
  const now = valueAt(live, path);
  const then = valueAt(applied.document, path);
  return now.found === then.found && (!now.found || sameJson(now.value, then.value));
}
