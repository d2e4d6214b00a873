#!/usr/bin/env node
/**
 * The second half of `npm test` (issue 6): the end-to-end and durability suites again, and the
 * CLI commands that read the stores, with every test server on PostgreSQL + Redis + an S3 server
 * (s3rver, started by the tests). When
 * PostgreSQL or Redis does not answer, the run is skipped with a notice — except under CI=true,
 * where it fails: a skipped backend must never pass for green.
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';

const postgres = new URL(
  process.env.BUCKET_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
);
const redis = new URL(process.env.BUCKET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');

function reachable(url, defaultPort) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: url.hostname, port: Number(url.port || defaultPort) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const missing = [];
if (!(await reachable(postgres, 5432))) missing.push(`PostgreSQL at ${postgres.host}`);
if (!(await reachable(redis, 6379))) missing.push(`Redis at ${redis.host}`);
if (missing.length > 0) {
  const message = `scale-out suites: ${missing.join(' and ')} unreachable`;
  if (process.env.CI === 'true') {
    console.error(`${message} — failing (CI=true). Start them: see .ci/run.`);
    process.exit(1);
  }
  console.error(`${message} — SKIPPED (start them and run npm run test:scaleout).`);
  process.exit(0);
}

const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
// Files run in parallel, as in the embedded run: every server has a database, an S3 bucket and a
// Redis key prefix of its own (test/helpers/scaleout.ts), and the accepted-rate measurements that
// once needed a quiet machine are in `npm run test:timed`.
//
// The webhook suites (test/e2e/webhooks.test.ts, webhooks-nodes.test.ts) run here with the rest of
// test/e2e: deliveries, leases and the restart on PostgreSQL; the WebhookStore contract suite runs
// on both stores in the embedded pass already.
//
// Of the CLI suite, only the commands that reach the stores themselves run again here (`audit
// verify` reads PostgreSQL and S3; `audit prove`, `audit entries` and `status` show what the
// backends say). The others speak HTTP only: what the server does on the shared backends is
// covered by the end-to-end suite here and by the storage contract suites.
const SCALE_OUT_CLI = [
  'test/cli/audit-verify.test.ts',
  'test/cli/audit-verify-facts.test.ts',
  'test/cli/audit-prove.test.ts',
  'test/cli/audit-entries.test.ts',
  'test/cli/status.test.ts',
];
// Suites whose behaviour no backend touches run in the embedded pass only:
// - the console's browser tests drive the same public API whatever the backend, and Chromium is
//   not run twice;
// - the real S3 clients (aws, rclone, boto3) prove the door's wire protocol — signatures,
//   aws-chunked bodies, XML, paging — which is the same code on either store; the door on the
//   shared stores (multipart temporaries on S3, versions and ETags in PostgreSQL) runs here with
//   the AWS SDK suites in test/e2e/s3;
// - the data-directory lock (`<dataDir>/bucket.pid`) is taken before any store is opened,
//   whatever the backend (src/bucket.ts).
const EMBEDDED_ONLY = [
  'test/e2e/console-*.test.ts',
  'test/e2e/s3/real-clients.test.ts',
  'test/durability/data-dir-lock.test.ts',
];
const child = spawn(
  process.execPath,
  [
    vitest,
    'run',
    'test/e2e',
    ...SCALE_OUT_CLI,
    'test/durability',
    ...EMBEDDED_ONLY.flatMap((pattern) => ['--exclude', pattern]),
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env: { ...process.env, BUCKET_TEST_BACKEND: 'scaleout' } },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
