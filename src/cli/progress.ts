/**
 * The transfer progress bar: drawn only for transfers over 10 MB, and only on a terminal, so
 * pipes, files and CI logs never see control characters.
 */
import { Presets, SingleBar } from 'cli-progress';
import { formatBytes } from './output.js';

/** 10 MB, in the SPEC's binary megabytes. */
export const PROGRESS_MIN_BYTES = 10 * 1024 * 1024;

export interface Progress {
  advance(bytes: number): void;
  stop(): void;
}

export function startProgress(
  label: string,
  totalBytes: number | null,
  terminal: NodeJS.WriteStream,
): Progress | null {
  if (totalBytes === null || totalBytes <= PROGRESS_MIN_BYTES || terminal.isTTY !== true) {
    return null;
  }
  const bar = new SingleBar(
    {
      stream: terminal,
      format: `${label} [{bar}] {percentage}% | {done} of {size} | {rate} | ETA {eta_formatted}`,
      fps: 10,
    },
    Presets.shades_classic,
  );
  const startedAt = Date.now();
  let done = 0;
  const payload = () => {
    const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
    return {
      done: formatBytes(done),
      size: formatBytes(totalBytes),
      rate: `${formatBytes(done / seconds)}/s`,
    };
  };
  bar.start(totalBytes, 0, payload());
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
