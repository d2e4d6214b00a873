/**
 * The Bucket's mode (SPEC §9): kept in memory for the gate (every request reads it, so it must be
 * cheap), persisted in the metadata store (a restart keeps it), reloaded when the change stamp
 * moves (services/coherence.ts: a switch on one node applies on every node within a poll).
 */
import { initialMode, strictness, type Mode, type ModeState } from '../domain/modes.js';
import type { ChangeEntry, MetadataStore, ModeSwitch } from '../storage/ports.js';
import { withEntryMembers } from './ledger.js';

/** A switch asked for: the mode, why, by whom, and the incident that made it, if any. */
export interface ModeRequest {
  readonly mode: Mode;
  readonly reason: string;
  readonly by: string;
  readonly incidentId?: string | null;
}

export class ModeService {
  private state: ModeState | null = null;
  private installedAt = new Date(0).toISOString();
  /** Switches run one at a time, so that each names the mode it really left. */
  private switches: Promise<unknown> = Promise.resolve();
  private readonly listeners: ((state: ModeState) => void)[] = [];

  constructor(private readonly metadata: Pick<MetadataStore, 'currentMode' | 'setMode'>) {}

  /** Loads the stored mode; a Bucket never switched runs in `normal` since `installedAt`. */
  async init(installedAt: string): Promise<void> {
    this.installedAt = installedAt;
    await this.reload();
  }

  /** Takes the stored mode, which another node may have switched (coherence). */
  reload(): Promise<void> {
    // In the switches' queue: a reload whose read began before a switch of this node committed
    // would otherwise put the older mode back after it.
    return this.serialize(() => this.load());
  }

  /** Takes the stored mode; only from a change already in the switches' queue (`serialize`). */
  async load(): Promise<void> {
    this.adopt((await this.metadata.currentMode()) ?? initialMode(this.installedAt));
  }

  /**
   * Calls `listener` with the new state whenever this node's mode changes: its own switches, an
   * incident's, and another node's once reloaded.
   */
  onChange(listener: (state: ModeState) => void): void {
    this.listeners.push(listener);
  }

  /** The mode as this node knows it: in memory, no I/O. */
  current(): ModeState {
    if (!this.state) throw new Error('mode not loaded');
    return this.state;
  }

  mode(): Mode {
    return this.current().mode;
  }

  /**
   * Switches to `request.mode`, recording the switch with `entry` (the owner's allow, its entry
   * naming the new mode) and `bucket.mode.changed` in one transaction.
   */
  set(request: ModeRequest, entry?: ChangeEntry): Promise<ModeState> {
    return this.serialize(() => this.apply(request, entry));
  }

  /** Runs `change` after every switch asked for before it (an incident's opening is one). */
  serialize<T>(change: () => Promise<T>): Promise<T> {
    const next = this.switches.then(change);
    this.switches = next.catch(() => undefined);
    return next;
  }

  /**
   * The switch an opening incident makes, for its store to write in the incident's transaction:
   * only ever to a stricter mode (never out of `read_only` or `halted`), else null.
   */
  switchFor(request: ModeRequest): ModeSwitch | null {
    const previous = this.current().mode;
    if (strictness(request.mode) <= strictness(previous)) return null;
    return { state: stateOf(request), previous };
  }

  /** Makes a switch its store has committed (an incident's) the live mode. */
  committed(change: ModeSwitch): void {
    this.adopt(change.state);
  }

  private async apply(request: ModeRequest, entry?: ChangeEntry): Promise<ModeState> {
    // "The mode it leaves" is the stored one, which another node may have switched meanwhile.
    await this.load();
    const previous = this.current().mode;
    const state = stateOf(request);
    const record = { mode: state.mode, previous, reason: state.reason, incidentId: null };
    await this.metadata.setMode(
      { state, previous },
      entry && withEntryMembers(entry, { mode: record }),
    );
    this.adopt(state);
    return state;
  }

  private adopt(state: ModeState): void {
    const before = this.state?.mode;
    this.state = state;
    if (before !== undefined && before !== state.mode) {
      // The switch has happened (committed): a listener's failure must not undo its answer.
      for (const listener of this.listeners) {
        try {
          listener(state);
        } catch {
          // Listeners only tidy up (streams ended); the next switch tries again.
        }
      }
    }
  }
}

function stateOf(request: ModeRequest): ModeState {
  return {
    mode: request.mode,
    since: new Date().toISOString(),
    reason: request.reason,
    by: request.by,
    incidentId: request.incidentId ?? null,
  };
}

/** The pinned answer of the mode routes: `incidentId` only when an incident made the switch. */
export function modeAnswer(state: ModeState) {
  return {
    mode: state.mode,
    since: state.since,
    reason: state.reason,
    by: state.by,
    ...(state.incidentId === null ? {} : { incidentId: state.incidentId }),
  };
}
