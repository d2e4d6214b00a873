/**
 * The bare Fastify 5 server the Bucket is measured against: no body parsing, no auth, no storage.
 * `PUT /*` drains the body and answers 201 with a small JSON; `GET /*` answers a 1 KiB body, or
 * `?bytes=N` streamed bytes for the large download. Run as its own process by bench/run.ts.
 */
import Fastify from 'fastify';
import { generatedStream } from './lib/source.js';

const ONE_KIB = Buffer.alloc(1024, 'b');

const app = Fastify({ logger: false, requestTimeout: 0 });

app.removeAllContentTypeParsers();
// Catch-all: drain the body without parsing or buffering it, whatever the content type.
app.addContentTypeParser('*', (_request, payload, done) => {
  payload.on('error', done);
  payload.on('end', () => done(null, undefined));
  payload.resume();
});

app.put('/*', async (_request, reply) => {
  reply.code(201);
  return { ok: true };
});

app.get<{ Querystring: { bytes?: string } }>('/*', async (request, reply) => {
  reply.header('content-type', 'application/octet-stream');
  const bytes = Number(request.query.bytes);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return ONE_KIB;
  reply.header('content-length', bytes);
  return reply.send(generatedStream(bytes));
});

const address = await app.listen({ host: process.env['HOST'] ?? '127.0.0.1', port: 0 });
process.stdout.write(`bare Fastify listening on ${address}\n`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
