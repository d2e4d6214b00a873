/** Every bench suite, in table order: `--only` and `--help` name them from this list. */
import type { Suite } from '../suite.js';
import { audit } from './audit.js';
import { batch } from './batch.js';
import { certification } from './certification.js';
import { coreRuns } from './core-runs.js';
import { events } from './events.js';
import { gateDecision } from './gate-decision.js';
import { gateOverhead, outboxOverhead } from './gate-overhead.js';
import { integrity } from './integrity.js';
import { largeTransfer } from './large-transfer.js';
import { retention } from './retention.js';
import { scaleOut } from './scale-out.js';
import { s3Door } from './s3.js';
import { scrub } from './scrub.js';
import { overload } from './overload.js';
import { smallRequests } from './small-requests.js';
import { subjectErasure, subjectTransfer } from './subjects.js';
import { workers } from './workers.js';

export const SUITES: readonly Suite[] = [
  smallRequests,
  workers,
  overload,
  batch,
  gateOverhead,
  outboxOverhead,
  gateDecision,
  largeTransfer,
  integrity,
  audit,
  retention,
  subjectTransfer,
  subjectErasure,
  events,
  coreRuns,
  scaleOut,
  scrub,
  certification,
  s3Door,
];
