/**
 * Incidents (SPEC §9): opened by the Bucket itself when one of its mechanisms finds a failure
 * (`open`: the gate failing closed today; integrity, scrub and drift later), resolved by the owner.
 * Opening an integrity or drift incident switches a `normal` Bucket to `read_only` in the same
 * transaction; resolving one never switches back: only the owner's `POST /v1/governance/mode` does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditDraft } from '../audit/entry.js';
import { BucketError } from '../domain/errors.js';
import {
  READ_ONLY_KINDS,
  SYSTEM_ID,
  type Incident,
  type IncidentKind,
  type Mode,
} from '../domain/modes.js';
import type { ChangeEntry, MetadataStore } from '../storage/ports.js';
import { withEntryMembers } from './ledger.js';
import type { ModeService } from './modes.js';

export interface OpenOptions {
  /**
   * The mode the opening switches to, when stricter than the current one; by default `read_only`
   * for integrity and drift incidents, none for the others. Null: no switch.
   */
  readonly mode?: Exclude<Mode, 'normal'> | null;
}

type IncidentStore = Pick<MetadataStore, 'openIncident' | 'resolveIncident' | 'listIncidents'>;

export class IncidentService {
  /** The look-then-open of each kind in progress: one at a time, or two checks open two. */
  private readonly opening = new Map<IncidentKind, Promise<unknown>>();

  constructor(
    private readonly metadata: IncidentStore,
    private readonly modes: ModeService,
    /** The live policy version, for the entries of the Bucket's own decisions. */
    private readonly policyVersion: () => number,
  ) {}

  /**
   * Opens an incident of `kind` with `evidence` (metadata only: ids, digests, counts), audited as
   * the Bucket's own decision, with `bucket.incident.opened` — and the switch it makes, if any.
   */
  open(kind: IncidentKind, evidence: Record<string, unknown>, options: OpenOptions = {}) {
    const id = `inc_${randomBytes(8).toString('hex')}`;
    const incident: Incident = {
      id,
      kind,
      status: 'open',
      detectedAt: new Date().toISOString(),
      evidence,
      resolvedAt: null,
      resolvedBy: null,
      resolution: null,
    };
    const target = options.mode === undefined ? defaultMode(kind) : options.mode;
    return this.modes.serialize(async () => {
      await this.modes.load();
      const change =
        target === null
          ? null
          : this.modes.switchFor({
              mode: target,
              reason: `${kind} incident ${id} opened`,
              by: SYSTEM_ID,
              incidentId: id,
            });
      const draft: AuditDraft = {
        decision: this.systemDecision(`${kind} incident ${id} opened`),
        requestId: `incident-${id}`,
        incident: { id, kind, status: 'open' },
        ...(change
          ? {
              mode: {
                mode: change.state.mode,
                previous: change.previous,
                reason: change.state.reason,
                incidentId: id,
              },
            }
          : {}),
      };
      await this.metadata.openIncident(incident, change, { draft, receipt: null });
      if (change) this.modes.committed(change);
      return incident;
    });
  }

  /**
   * Opens an incident of `kind` unless one of that kind is open already about the same thing
   * (`same`: any open one of the kind by default); null then.
   */
  async openUnlessOpen(
    kind: IncidentKind,
    evidence: Record<string, unknown>,
    options: OpenOptions & { readonly same?: (open: Incident) => boolean } = {},
  ): Promise<Incident | null> {
    const { same = () => true, ...openOptions } = options;
    // A periodic check and a request's check finding the same drift at once: the second waits
    // for the first's incident, then finds it open.
    const before = this.opening.get(kind) ?? Promise.resolve();
    const run = before
      .catch(() => undefined)
      .then(async () => {
        const open = await this.metadata.listIncidents('open');
        if (open.some((incident) => incident.kind === kind && same(incident))) return null;
        return this.open(kind, evidence, openOptions);
      });
    this.opening.set(kind, run);
    try {
      return await run;
    } finally {
      if (this.opening.get(kind) === run) this.opening.delete(kind);
    }
  }

  /**
   * The owner resolves an open incident (`entry`: the allow, naming the incident). 404 for an
   * unknown id, 409 for one already resolved. The mode stays as it is.
   */
  async resolve(
    id: string,
    resolution: { resolution: string; by: string },
    entry?: ChangeEntry,
  ): Promise<Incident> {
    const found = (await this.metadata.listIncidents()).find((incident) => incident.id === id);
    if (!found) throw new BucketError('incident_not_found', `no incident ${id}`);
    if (found.status === 'resolved') {
      throw new BucketError(
        'incident_resolved',
        `incident ${id} was resolved at ${found.resolvedAt}`,
      );
    }
    const record = { id, kind: found.kind, status: 'resolved' as const };
    const result = await this.metadata.resolveIncident(
      id,
      { at: new Date().toISOString(), by: resolution.by, resolution: resolution.resolution },
      entry && withEntryMembers(entry, { incident: record }),
    );
    if (!result) throw new BucketError('incident_not_found', `no incident ${id}`);
    if (!result.resolvedNow) {
      throw new BucketError('incident_resolved', `incident ${id} was resolved meanwhile`);
    }
    return result.incident;
  }

  list(status?: Incident['status']): Promise<Incident[]> {
    return this.metadata.listIncidents(status);
  }

  /** The decision record of a change the Bucket makes by itself (SPEC §4.3 fields). */
  private systemDecision(message: string) {
    return {
      id: randomUUID(),
      allow: true,
      status: 200,
      operation: 'incidents.open',
      principal: { id: SYSTEM_ID, kind: 'owner' as const, product: null },
      target: { product: null, class: null, name: null },
      reasons: [{ rule: 'incident', message }],
      threats: [],
      policyVersion: this.policyVersion(),
    };
  }
}

function defaultMode(kind: IncidentKind): Exclude<Mode, 'normal'> | null {
  return READ_ONLY_KINDS.has(kind) ? 'read_only' : null;
}
