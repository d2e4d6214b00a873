/**
 * Durability beyond `kill -9`: an acknowledged write survives a crash of the machine, because the
 * embedded store answers only after an fdatasync of its WAL that started after the write's commit
 * (src/storage/sqlite/wal-sync.ts). A power cut cannot be staged here, so the test watches the real
 * server's system calls under strace instead: for every write it answers, the write's first WAL
 * frame, then a completed fdatasync of the WAL started after it, then the answer.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCALE_OUT } from '../helpers/scaleout.js';
import { BUCKET_BIN, client, createKey, type TestServer } from '../helpers/server.js';

interface Traced {
  readonly url: string;
  readonly ownerKey: string;
  readonly dataDir: string;
  readonly traceFile: string;
  stop(): Promise<void>;
}

/** `bucket serve` under `strace -f`, tracing socket reads, writes and syncs with file names. */
async function startTraced(): Promise<Traced> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bucket-strace-'));
  const traceFile = join(dataDir, '..', `${dataDir.split('/').pop()}.strace`);
  const child = spawn(
    'strace',
    [
      '-f',
      '-y',
      '-s',
      '48',
      '-e',
      'trace=read,pwrite64,fdatasync,fsync,write,writev',
      '-o',
      traceFile,
      process.execPath,
      BUCKET_BIN,
      'serve',
    ],
    {
      env: {
        ...process.env,
        BUCKET_DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        BUCKET_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no server under strace:\n${output}`)), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`strace exited with ${code}:\n${output}`)));
    child.stdout.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  const ownerKey = (await readFile(join(dataDir, 'owner.key'), 'utf8')).trim();
  return {
    url,
    ownerKey,
    dataDir,
    traceFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // The server, not strace (which would detach and leave it running): strace ends with it.
      const pid = Number((await readFile(join(dataDir, 'bucket.pid'), 'utf8')).trim());
      process.kill(pid, 'SIGTERM');
      await exited;
    },
  };
}

interface Line {
  readonly pid: string;
  readonly text: string;
}

function parse(trace: string): Line[] {
  return trace
    .split('\n')
    .map((line) => /^(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ pid: match[1] ?? '', text: match[2] ?? '' }));
}

/** Index ranges [started, completed] of the fdatasync/fsync calls on the WAL file. */
function walSyncs(lines: readonly Line[]): { started: number; completed: number }[] {
  const syncs: { started: number; completed: number }[] = [];
  const open = new Map<string, number>();
  lines.forEach((line, i) => {
    const call = /^f(?:data)?sync\(\d+<[^>]*-wal>\)?(.*)$/.exec(line.text);
    if (call) {
      if (/unfinished/.test(call[1] ?? '')) open.set(line.pid, i);
      else if (/= 0$/.test(line.text)) syncs.push({ started: i, completed: i });
      return;
    }
    if (/^<\.\.\. f(?:data)?sync resumed>.*= 0$/.test(line.text) && open.has(line.pid)) {
      syncs.push({ started: open.get(line.pid) ?? i, completed: i });
      open.delete(line.pid);
    }
  });
  return syncs;
}

/**
 * strace is a Debian package (`apt-get install -y strace`). Without it the test is skipped with a
 * notice — except under CI=true, where it runs and fails: a check that did not run is not green.
 */
const straceMissing = spawnSync('strace', ['-V']).status !== 0;
if (straceMissing && !SCALE_OUT) {
  console.warn('synced-before-ack: strace not found — SKIPPED (apt-get install -y strace)');
}

describe.skipIf(SCALE_OUT || (straceMissing && process.env['CI'] !== 'true'))(
  'an answered write is on disk (embedded: WAL synced first)',
  () => {
    let traced: Traced;
    beforeAll(async () => {
      traced = await startTraced();
    });
    afterAll(async () => {
      await traced?.stop();
      await rm(traced?.traceFile ?? '', { force: true });
      await rm(traced?.dataDir ?? '', { recursive: true, force: true });
    });

    it('answers each write only after an fdatasync of the WAL that began after its commit', async () => {
      const server = { url: traced.url, ownerKey: traced.ownerKey } as TestServer;
      const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
      const api = client(traced.url, key);
      const writes = 8;
      for (let i = 0; i < writes; i++) {
        const answer = await api(
          'PUT',
          `/v1/artifacts/ai_avatar/model_checkpoint/synced/${i}.bin`,
          {
            body: Buffer.from(`checkpoint ${i}`),
            headers: { 'content-type': 'application/octet-stream' },
          },
        );
        expect(answer.status).toBe(201);
      }
      await traced.stop();

      const lines = parse(await readFile(traced.traceFile, 'utf8'));
      const syncs = walSyncs(lines);
      let checked = 0;
      lines.forEach((line, answeredAt) => {
        if (!/^writev?\(\d+<socket:.*"HTTP\/1\.1 201 /.test(line.text)) return;
        // The request this answers: the last PUT read from a socket before it.
        let readAt = answeredAt;
        while (
          readAt >= 0 &&
          !/^read\(\d+<socket:[^>]*>, "PUT \/v1\/artifacts/.test(lines[readAt]?.text ?? '')
        )
          readAt--;
        if (readAt < 0) return;
        let firstFrame = readAt;
        while (
          firstFrame < answeredAt &&
          !/^pwrite64\(\d+<[^>]*bucket\.db-wal>/.test(lines[firstFrame]?.text ?? '')
        )
          firstFrame++;
        expect(firstFrame, 'the write committed to the WAL before its answer').toBeLessThan(
          answeredAt,
        );
        expect(
          syncs.some((sync) => sync.started > firstFrame && sync.completed < answeredAt),
          `a WAL sync between the commit (trace line ${firstFrame}) and the answer (line ${answeredAt})`,
        ).toBe(true);
        checked++;
      });
      expect(checked).toBe(writes);
    });
  },
);
