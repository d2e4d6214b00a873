/**
 * Proxies on loopback. A TCP proxy for the tests of a network that fails: it forwards both ways, and the
 * test cuts every open connection when it likes (`cut`), or lets a connection pass only `after`
 * bytes from the server to the client, then destroys it (`cut`: a network cut in the middle of a
 * download) or forwards nothing more (`stall`: a download that hangs until it is stopped). An
 * HTTP proxy for a server that lies: it rewrites chosen answers.
 */
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly url: string;
  /** Destroys every open connection, as a network drop would; new ones pass again. */
  cut(): void;
  close(): Promise<void>;
}

export async function tcpProxy(
  target: string,
  limit: { after: number; then: 'cut' | 'stall' } = { after: Infinity, then: 'cut' },
): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((downstream) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    let passed = 0;
    downstream.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      const room = Math.max(limit.after - passed, 0);
      passed += chunk.length;
      if (room > chunk.length) {
        downstream.write(chunk);
        return;
      }
      if (room > 0) {
        downstream.write(chunk.subarray(0, room), () => {
          if (limit.then === 'cut') downstream.destroy();
        });
      }
      if (limit.then === 'cut') upstream.destroy();
    });
    upstream.on('error', () => downstream.destroy());
    downstream.on('error', () => upstream.destroy());
    downstream.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const cut = () => sockets.forEach((socket) => socket.destroy());
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut,
    async close() {
      cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Rewrites of answer bodies by request path (without the query); others pass as they are. */
export type AnswerRewrites = Map<string, (body: Buffer) => Buffer>;

/**
 * An HTTP proxy on loopback that forwards every request to `target` and lets `rewrite` change
 * answers on their way back (a lying server, e.g. a forged audit checkpoint): the answers it
 * leaves alone are streamed through untouched (Server-Sent Events too). The test may change
 * `rewrites` between requests.
 */
export async function httpProxy(
  target: string,
  rewrites: AnswerRewrites,
): Promise<{ url: string; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const server = createHttpServer((incoming, outgoing) => {
    const upstream = httpRequest(
      { hostname, port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        const path = (incoming.url ?? '').split('?', 1)[0] ?? '';
        const rewrite = rewrites.get(path);
        if (rewrite === undefined) {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = rewrite(Buffer.concat(chunks));
          outgoing.writeHead(answer.statusCode ?? 502, {
            ...answer.headers,
            'content-length': String(body.length),
          });
          outgoing.end(body);
        });
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
