/**
 * A worker's IPC channel to its primary's limiter (src/cluster/limiter.ts), in memory: messages
 * cross asynchronously and as copies, as over IPC. `silence()` plays a primary that stopped
 * answering (it is dying), `disconnect()` its death as a worker sees it — the channel's
 * `disconnect` event, then every send failing through its callback as Node's do — and `cut()` a
 * channel closed before that event has come.
 */
import { EventEmitter } from 'node:events';
import type { LimiterHost } from '../../src/cluster/limiter.js';

export function channelTo(host: LimiterHost, id: number) {
  const worker = new EventEmitter();
  let answering = true;
  let closed = false;
  const copy = (message: unknown) => JSON.parse(JSON.stringify(message)) as unknown;
  return Object.assign(worker, {
    send(
      message: unknown,
      _handle?: undefined,
      _options?: undefined,
      callback?: (error: Error | null) => void,
    ): boolean {
      if (closed) {
        const error = Object.assign(new Error('Channel closed'), {
          code: 'ERR_IPC_CHANNEL_CLOSED',
        });
        process.nextTick(() => callback?.(error));
        return false;
      }
      const sent = copy(message);
      setImmediate(
        () =>
          void host.handle(id, sent, (answer) =>
            setImmediate(() => {
              if (answering && !closed) worker.emit('message', copy(answer));
            }),
          ),
      );
      process.nextTick(() => callback?.(null));
      return true;
    },
    silence() {
      answering = false;
    },
    disconnect() {
      closed = true;
      worker.emit('disconnect');
    },
    cut() {
      closed = true;
    },
  });
}
