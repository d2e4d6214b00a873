/** A bench suite: one group of measurements, run against both servers, answering table rows. */
import type { BenchProfile } from './options.js';
import type { ProcessTracker } from './proc.js';
import type { ServerProcess } from './processes.js';
import type { Row } from './report.js';
import type { BucketUnderTest } from './servers.js';

export interface SuiteContext {
  readonly profile: BenchProfile;
  readonly bucket: BucketUnderTest;
  readonly bare: ServerProcess;
  /** Progress, on stderr, so `--json` output stays clean. */
  readonly log: (line: string) => void;
  /** A suite that starts a server of its own tracks it, so its CPU is not counted as others'. */
  readonly processes: ProcessTracker;
}

export interface Suite {
  readonly name: string;
  run(context: SuiteContext): Promise<Row[]>;
}
