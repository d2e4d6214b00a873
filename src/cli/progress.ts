/**
 * The CLI's progress bars, drawn only on a terminal, so pipes, files and CI logs never see control
 * characters; the transfer bar only for transfers over 10 MB.
 */
import { createRequire } from 'node:module';
import type * as CliProgress from 'cli-progress';
import type { SingleBar } from 'cli-progress';
import { formatBytes } from './output.js';

// Loaded when a bar is drawn, not with the CLI: most commands never draw one.
const require = createRequire(import.meta.url);

/** 10 MB, in the SPEC's binary megabytes. */
export const PROGRESS_MIN_BYTES = 10 * 1024 * 1024;

/**
 * A bar in the CLI's one style on `terminal` (`format` in cli-progress's tokens), or null when it
 * is not a terminal: every progress bar of the CLI is made here.
 */
export function terminalBar(terminal: NodeJS.WriteStream, format: string): SingleBar | null {
  if (terminal.isTTY !== true) return null;
  const { Presets, SingleBar } = require('cli-progress') as typeof CliProgress;
  return new SingleBar({ stream: terminal, format, fps: 10 }, Presets.shades_classic);
}

export interface Progress {
  advance(bytes: number): void;
  stop(): void;
}

/** A transfer's bar; `doneBytes` were transferred before (a resumed download starts there). */
export function startProgress(
  label: string,
  totalBytes: number | null,
  terminal: NodeJS.WriteStream,
  doneBytes = 0,
): Progress | null {
  if (totalBytes === null || totalBytes <= PROGRESS_MIN_BYTES) return null;
  const bar = terminalBar(
    terminal,
    `${label} [{bar}] {percentage}% | {done} of {size} | {rate} | ETA {eta_formatted}`,
  );
  if (!bar) return null;
  const startedAt = Date.now();
  let done = doneBytes;
  const payload = () => {
    const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
    return {
      done: formatBytes(done),
      size: formatBytes(totalBytes),
      rate: `${formatBytes((done - doneBytes) / seconds)}/s`,
    };
  };
  bar.start(totalBytes, done, payload());
  let stopped = false;
  return {
    advance(bytes) {
      done += bytes;
      bar.update(done, payload());
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
