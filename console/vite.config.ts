/**
 * The web console's build (SPEC §14): `npm run build` bundles console/ into dist/console, which
 * the Bucket serves at /console (src/http/routes/console.ts). Preact's JSX through esbuild, no
 * plugin; no inline script or style, so `Content-Security-Policy: default-src 'self'` holds.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/console/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: here('../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an inline script; every browser the console supports preloads.
    modulePreload: { polyfill: false },
    // Nothing is inlined as a data: URL (CSP default-src 'self').
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
