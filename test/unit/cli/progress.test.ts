import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PROGRESS_MIN_BYTES, startProgress, terminalBar } from '../../../src/cli/progress.js';

/** A stream that says it is a terminal, collecting what is drawn on it. */
function fakeTerminal(isTTY: boolean) {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns: number };
  stream.isTTY = isTTY;
  stream.columns = 120;
  let drawn = '';
  stream.on('data', (chunk: Buffer) => (drawn += chunk.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, drawn: () => drawn };
}

describe('CLI progress bars', () => {
  it('draw nothing where output is not a terminal (pipes, files, CI logs)', () => {
    const { stream, drawn } = fakeTerminal(false);
    expect(terminalBar(stream, '{bar}')).toBeNull();
    expect(startProgress('upload', PROGRESS_MIN_BYTES * 4, stream)).toBeNull();
    expect(drawn()).toBe('');
  });

  it('draw a transfer bar on a terminal only for transfers over 10 MB', async () => {
    const small = fakeTerminal(true);
    expect(startProgress('upload', PROGRESS_MIN_BYTES, small.stream)).toBeNull();
    expect(startProgress('upload', null, small.stream)).toBeNull();

    const large = fakeTerminal(true);
    const progress = startProgress('upload', PROGRESS_MIN_BYTES * 2, large.stream);
    expect(progress).not.toBeNull();
    progress?.advance(PROGRESS_MIN_BYTES);
    progress?.stop();
    progress?.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(large.drawn()).toMatch(/upload \[.*\] 50% \| 10\.0 MiB of 20\.0 MiB/);
  });

  it('share one style: a counted bar in any format', async () => {
    const { stream, drawn } = fakeTerminal(true);
    const bar = terminalBar(
      stream,
      'reading the log [{bar}] {percentage}% | entry {value} of {total}',
    );
    bar?.start(200, 0);
    bar?.update(50);
    bar?.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(drawn()).toMatch(/reading the log \[.*\] 25% \| entry 50 of 200/);
  });
});
