/** The targets of issue 2 ("Speed and memory") for this 2-core machine, in one place. */
import type { Target } from './report.js';

/** Governed 1 KiB writes: at least 40 % of the bare server's rate. */
export const PUT_RATE: Target = { kind: 'ratio-at-least', ratio: 0.4 };
/** 1 KiB reads: at least 30 % of the bare server's rate. */
export const GET_RATE: Target = { kind: 'ratio-at-least', ratio: 0.3 };
/** Large streamed upload and download: at least 150 MB/s each way. */
export const TRANSFER_SPEED: Target = { kind: 'at-least', value: 150 };
/** The server's peak RSS across the large upload and download: under 250 MB. */
export const TRANSFER_PEAK_RSS: Target = { kind: 'below', value: 250 };
