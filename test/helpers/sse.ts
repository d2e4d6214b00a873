/** A Server-Sent Events client for tests (SPEC §10 streams): frames handed out as they arrive. */
import { request as httpRequest, type IncomingMessage } from 'node:http';

export interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** A Server-Sent Events client that hands out frames as they arrive. */
export class SseReader {
  private buffer = '';
  private readonly frames: Frame[] = [];
  private waiting: (() => void) | null = null;
  ended = false;

  constructor(private readonly response: IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const frame: Frame = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) frame.comment = line.slice(1).trim();
          else {
            const colon = line.indexOf(':');
            const field = line.slice(0, colon) as 'id' | 'event' | 'data';
            frame[field] = line.slice(colon + 1).trimStart();
          }
        }
        this.frames.push(frame);
      }
      this.waiting?.();
    });
    response.on('close', () => {
      this.ended = true;
      this.waiting?.();
    });
  }

  static open(url: string, key: string, headers: Record<string, string> = {}): Promise<SseReader> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { headers: { authorization: `Bearer ${key}`, ...headers } });
      req.on('response', (response) => resolve(new SseReader(response)));
      req.on('error', reject);
      req.end();
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  get contentType(): string {
    return String(this.response.headers['content-type']);
  }

  /** The next frame that `accept`s, waiting for it (the test's timeout bounds the wait). */
  async next(accept: (frame: Frame) => boolean = (frame) => frame.id !== undefined) {
    for (;;) {
      const index = this.frames.findIndex(accept);
      if (index >= 0) return this.frames.splice(index, 1)[0] as Frame;
      if (this.ended) throw new Error('the stream ended');
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  /** The next `count` events, in order. */
  async events(count: number): Promise<{ id: number; type: string; event: any }[]> {
    const found = [];
    for (let i = 0; i < count; i++) {
      const frame = await this.next();
      found.push({
        id: Number(frame.id),
        type: String(frame.event),
        event: JSON.parse(frame.data ?? ''),
      });
    }
    return found;
  }

  close(): void {
    this.response.destroy();
  }
}
