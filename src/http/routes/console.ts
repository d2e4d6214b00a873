/**
 * The web console (SPEC §14): the static files `npm run build` puts in `dist/console`, served at
 * `/console` without a key (the page itself holds no data; every call it makes carries the user's
 * key to the public API), with `Content-Security-Policy: default-src 'self'`.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errorBody } from '../errors.js';

/** Both `src/http/routes` and `dist/http/routes` are three levels below the package root. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

export const CONSOLE_CSP = "default-src 'self'";

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** A file name Vite emits or the public folder holds: no dot files, no `..`, no backslashes. */
const SAFE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/** The built file at `path` (relative to the console folder), or null when there is none. */
async function consoleFile(dir: string, path: string): Promise<Buffer | null> {
  if (!SAFE_PATH.test(path) || path.includes('..')) return null;
  const file = resolve(dir, path);
  if (!file.startsWith(resolve(dir) + sep)) return null;
  try {
    return await readFile(file);
  } catch {
    return null;
  }
}

export const consoleRoutes =
  (dir: string = CONSOLE_DIR): FastifyPluginAsyncTypebox =>
  async (app) => {
    const serve = async (path: string, request: FastifyRequest, reply: FastifyReply) => {
      const body = await consoleFile(dir, path);
      reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      if (body === null) {
        const built = path === 'index.html' ? ' (run `npm run build` to build the console)' : '';
        return reply
          .code(404)
          .send(errorBody(request.id, 'not_found', `no console file ${path}${built}`));
      }
      // Vite names its assets by content hash: they never change; the page itself may.
      const immutable = path.startsWith('assets/');
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      reply.type(TYPES[extname(path)] ?? 'application/octet-stream');
      return reply.send(body);
    };
    const schema = { tags: ['console'], security: [], hide: true };
    app.get('/console', { config: { public: true }, schema }, async (_request, reply) =>
      reply.redirect('/console/'),
    );
    app.get(
      '/console/*',
      {
        config: { public: true },
        schema: { ...schema, params: Type.Object({ '*': Type.String({ maxLength: 300 }) }) },
      },
      async (request, reply) => serve(request.params['*'] || 'index.html', request, reply),
    );
  };
