#!/usr/bin/env node
/**
 * `npm test`: the static checks and the build, two at a time (each is one process on one core;
 * this machine has two), then every suite on the embedded backend (`vitest run`, then the files
 * that mock a module apart: vitest.isolated.config.ts), then the scale-out suites (scripts/test-scaleout.mjs). Stops at the first failure, with its output.
 *
 * The build's compiler does not type-check again (`--noCheck`): `tsc -p tsconfig.json` checks
 * src/ with the same options in the same run, and a failure there fails `npm test` before any
 * suite runs. `npm run build` alone still checks.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => fileURLToPath(new URL(`../node_modules/${name}`, import.meta.url));

const STATIC_STEPS = [
  // The longest first, so that the two lanes end together.
  ['typecheck', [bin('typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']],
  ['prettier', [bin('prettier/bin/prettier.cjs'), '--check', '.']],
  ['eslint', [bin('eslint/bin/eslint.js'), '.']],
  ['build', [bin('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--noCheck']],
  ['typecheck console', [bin('typescript/bin/tsc'), '-p', 'console/tsconfig.json', '--noEmit']],
  ['build console', [bin('vite/bin/vite.js'), 'build', '--config', 'console/vite.config.ts']],
];
const LANES = 2;

/** Runs `node args`, its output kept; resolves with the exit code and the output. */
function quiet(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', (error) => resolve({ code: 1, output: `${output}${error.message}\n` }));
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Runs `node args` on this terminal; resolves with the exit code. */
function loud(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.once('error', () => resolve(1));
    child.once('close', (code) => resolve(code ?? 1));
  });
}

const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

async function staticSteps() {
  const queue = [...STATIC_STEPS];
  let failed = false;
  const lane = async () => {
    for (let step = queue.shift(); step && !failed; step = queue.shift()) {
      const [name, args] = step;
      const started = Date.now();
      const { code, output } = await quiet(args);
      if (code === 0) {
        console.log(`✓ ${name} (${seconds(started)})`);
      } else {
        failed = true;
        process.stdout.write(output);
        console.error(`✗ ${name} failed (exit ${code})`);
      }
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  return !failed;
}

const started = Date.now();
if (!(await staticSteps())) process.exit(1);
for (const args of [
  [bin('vitest/vitest.mjs'), 'run'],
  // The files that mock a module, each with modules of its own (vitest.isolated.config.ts).
  [bin('vitest/vitest.mjs'), 'run', '--config', 'vitest.isolated.config.ts'],
  [fileURLToPath(new URL('test-scaleout.mjs', import.meta.url))],
]) {
  const code = await loud(args);
  if (code !== 0) process.exit(code);
}
console.log(`npm test: everything passed in ${seconds(started)}`);
