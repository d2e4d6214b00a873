/** The IntegrityStore port: scrubs and drift baselines (SPEC §9), and the schema as it stands. */
import type { DriftBaseline, SchemaObject } from '../../domain/drift.js';
import type { ScrubProblem, ScrubRecord, ScrubStatus } from '../../domain/scrub.js';
import type { ChangeEntry } from './change-entry.js';

export interface IntegrityStore {
  insertScrub(scrub: ScrubRecord): Promise<void>;
  /** Writes a scrub's progress or outcome (status, checked, problems, finishedAt, checkpoint). */
  saveScrub(scrub: ScrubRecord): Promise<void>;
  getScrub(id: string): Promise<ScrubRecord | null>;
  /** The newest scrub started (of `status`, when given), or null. */
  latestScrub(status?: ScrubStatus): Promise<ScrubRecord | null>;
  /** Fails every scrub still `running` with `problem`, finished at `at`; how many there were. */
  abandonScrubs(at: string, problem: ScrubProblem): Promise<number>;

  /** The newest signed drift baseline, or null before the first. */
  latestBaseline(): Promise<DriftBaseline | null>;
  /** Stores a baseline with its audit entry (`governance.drift`) in one transaction. */
  insertBaseline(baseline: DriftBaseline, entry: ChangeEntry): Promise<void>;
  /**
   * The store's own schema as the database reports it (tables, columns, indexes, triggers…), the
   * version its migrations reached, and a value that changes whenever the schema does, when the
   * database has one (SQLite's `schema_version`; null where none is cheap to read).
   */
  schemaDefinitions(): Promise<{ version: number; objects: SchemaObject[] }>;
  schemaStamp(): Promise<string | null>;
}
