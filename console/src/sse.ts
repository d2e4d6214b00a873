/**
 * Server-Sent Events over fetch: EventSource cannot send the Authorization header, and the key
 * must never go in a URL or a cookie (SPEC §14), so the stream is read and parsed here.
 */
import { call } from './api';

export interface SseFrame {
  id: string | null;
  event: string;
  data: string;
}

/** Reads `path` until `signal` aborts or the stream ends; calls `onFrame` for each frame. */
export async function readSse(
  path: string,
  lastEventId: string | null,
  signal: AbortSignal,
  onFrame: (frame: SseFrame) => void,
): Promise<void> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const answer = await call(path, { headers, signal });
  if (!answer.body) return;
  const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let frame: SseFrame = { id: null, event: 'message', data: '' };
  let hasData = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let newline: number;
    while ((newline = buffer.search(/\r?\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer[newline] === '\r' ? 2 : 1));
      if (line === '') {
        if (hasData) onFrame({ ...frame, data: frame.data.replace(/\n$/, '') });
        frame = { id: frame.id, event: 'message', data: '' };
        hasData = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') frame.id = text;
      else if (field === 'event') frame.event = text;
      else if (field === 'data') {
        frame.data += `${text}\n`;
        hasData = true;
      }
    }
  }
}
