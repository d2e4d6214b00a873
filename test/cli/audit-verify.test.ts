/**
 * `bucket audit verify` against a real server's data directory (SPEC §6 Verification): a clean log
 * verifies, also while the server runs; each kind of tampering, done on a copy of the stopped
 * server's data, is found with exit 1 and a message naming it; an export verifies offline.
 */
import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519PublicKeyBytes, encodeVerifierKey } from '../../src/audit/note.js';
import { SCALE_OUT } from '../helpers/scaleout.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';
import { writeAuditHistory, type AuditFixture } from './audit-fixture.js';
import { runCli } from './run.js';
import { expectFailure } from './tamper.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

interface Facts extends Omit<AuditFixture, 'exportFile' | 'productExportFile' | 'vkeyFile'> {
  /** Tree size after the setup (the server's last checkpoint covers all of it). */
  size: number;
}

// The tampering cases edit the embedded store's files (SQLite rows, blob files) directly; the
// scale-out run verifies the shared stores of a running server here and in multi-node.test.ts.
describe('bucket audit verify', () => {
  let server: TestServer;
  let dataDir: string;
  let work: string;
  let exportFile: string;
  let productExportFile: string;
  let vkeyFile: string;
  const facts = {} as Facts;
  let copies = 0;

  /** A copy of the stopped server's data directory, tampered with through SQLite. */
  async function tamperedCopy(
    tamper: (db: Database.Database, dir: string) => void | Promise<void>,
  ) {
    const dir = join(work, `copy-${copies++}`);
    await cp(dataDir, dir, { recursive: true });
    const db = new Database(join(dir, 'bucket.db'));
    try {
      await tamper(db, dir);
    } finally {
      db.close();
    }
    return dir;
  }

  const verifyDir = (dir: string) => runCli(['audit', 'verify', '--data-dir', dir]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'bucket-audit-verify-'));
    server = await startTestServer();
    dataDir = server.dataDir;
    const written = await writeAuditHistory(server, work);
    Object.assign(facts, written);
    ({ exportFile, productExportFile, vkeyFile } = written);
  });
  afterAll(async () => {
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('verifies the storage of a running server, read-only, while it keeps writing', async () => {
    const assistant = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
    );
    const writes = Array.from({ length: 20 }, (_, i) =>
      assistant('PUT', `/v1/artifacts/ai_assistant/metadata/during-${i}.json`, {
        body: JSON.stringify({ i }),
        headers: JSON_HEADERS,
      }),
    );
    const [result, ...answers] = await Promise.all([
      // The same storage configuration as the server's (its shared stores in a scale-out run).
      runCli(['audit', 'verify', '--json'], {
        env: { ...server.backend?.env, BUCKET_DATA_DIR: dataDir },
      }),
      ...writes,
    ]);
    expect(answers.every((answer) => answer.status === 201)).toBe(true);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ok: true, origin: facts.origin, problems: [], problemCount: 0 });
    expect(report.entries).toBeGreaterThan(facts.deniedIndex);
    expect(report.checkpoints).toBeGreaterThan(0);
    expect(report.versions).toBeGreaterThanOrEqual(5);

    // The server is still serving: verification took no lock and changed nothing it relies on.
    expect((await client(server.url, server.ownerKey)('GET', '/health')).status).toBe(200);
  });

  it.skipIf(SCALE_OUT)('verifies the stopped server’s storage and prints a summary', async () => {
    await server.stop();
    const db = new Database(join(dataDir, 'bucket.db'), { readonly: true });
    facts.size = (
      db.prepare('SELECT max(idx) + 1 AS size FROM audit_entries').get() as {
        size: number;
      }
    ).size;
    db.close();
    const result = await verifyDir(dataDir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`audit log verified: ${dataDir} (${facts.origin})`);
    expect(result.stdout).toMatch(
      new RegExp(`entries: +${facts.size} \\(tree size ${facts.size}\\)`),
    );
    expect(result.stdout).toMatch(/root: +[0-9a-f]{64}/);
    expect(result.stdout).toMatch(
      /checkpoints: +\d+ checkpoints?: signatures, roots and consistency/,
    );
    expect(result.stdout).toMatch(/versions: +\d+: content digests and their audit entries/);
  });

  it.skipIf(SCALE_OUT)('finds an edited entry byte', async () => {
    const dir = await tamperedCopy((db) => {
      const row = db
        .prepare('SELECT canonical FROM audit_entries WHERE idx = ?')
        .get(facts.deniedIndex) as { canonical: Buffer };
      const canonical = Buffer.from(row.canonical);
      const at = canonical.indexOf('"allow":false');
      canonical[at + 9] = 'F'.charCodeAt(0); // false → False: one byte
      db.prepare('UPDATE audit_entries SET canonical = ? WHERE idx = ?').run(
        canonical,
        facts.deniedIndex,
      );
    });
    expectFailure(
      await verifyDir(dir),
      `entry ${facts.deniedIndex}: leaf hash mismatch`,
      `entry ${facts.deniedIndex}: its bytes are not JSON`,
    );
  });

  it.skipIf(SCALE_OUT)('finds a deleted entry', async () => {
    const dir = await tamperedCopy((db) => {
      db.prepare('DELETE FROM audit_entries WHERE idx = ?').run(facts.aV2Index);
    });
    expectFailure(
      await verifyDir(dir),
      `entry ${facts.aV2Index} is missing`,
      /checkpoint at size \d+: signed root [0-9a-f]{64} does not match the log/,
    );
  });

  it.skipIf(SCALE_OUT)('finds two swapped entries', async () => {
    const [a, b] = [facts.aV1Index, facts.aV2Index];
    const dir = await tamperedCopy((db) => {
      const row = db.prepare('SELECT canonical, leaf_hash FROM audit_entries WHERE idx = ?');
      const first = row.get(a) as { canonical: Buffer; leaf_hash: Buffer };
      const second = row.get(b) as { canonical: Buffer; leaf_hash: Buffer };
      const set = db.prepare('UPDATE audit_entries SET canonical = ?, leaf_hash = ? WHERE idx = ?');
      set.run(second.canonical, second.leaf_hash, a);
      set.run(first.canonical, first.leaf_hash, b);
    });
    expectFailure(
      await verifyDir(dir),
      `entry ${a}: its bytes say index ${b}`,
      `entry ${b}: its bytes say index ${a}`,
    );
  });

  it.skipIf(SCALE_OUT)('finds an altered checkpoint', async () => {
    let size = 0;
    const dir = await tamperedCopy((db) => {
      const row = db
        .prepare('SELECT size, note FROM audit_checkpoints WHERE size > 0 ORDER BY size LIMIT 1')
        .get() as { size: number; note: string };
      size = row.size;
      // One byte of the signed size line: `…\n<size>\n…` → a digit changed.
      const lines = row.note.split('\n');
      const digit = lines[1] as string;
      lines[1] = digit.slice(0, -1) + String((Number(digit.slice(-1)) + 1) % 10);
      db.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = ?').run(
        lines.join('\n'),
        size,
      );
    });
    expectFailure(await verifyDir(dir), `checkpoint at size ${size}: bad signature`);
  });

  it.skipIf(SCALE_OUT)('finds a flipped byte in inline content', async () => {
    const dir = await tamperedCopy((db) => {
      db.prepare(
        "UPDATE versions SET inline_content = ? WHERE name = 'a.json' AND version = 1",
      ).run(Buffer.from('{"v":7}'));
    });
    expectFailure(
      await verifyDir(dir),
      'version ai_avatar/avatar_config/a.json v1: content does not hash to its recorded sha256',
    );
  });

  it.skipIf(SCALE_OUT)('finds a flipped byte in a blob file', async () => {
    const dir = await tamperedCopy(async (_db, copy) => {
      const sha = facts.blobSha256;
      const file = join(copy, 'blobs', 'sha256', sha.slice(0, 2), sha.slice(2, 4), sha);
      const bytes = await readFile(file);
      bytes[1234] = (bytes[1234] as number) ^ 0x01;
      await writeFile(file, bytes);
    });
    expectFailure(
      await verifyDir(dir),
      'version ai_avatar/model_checkpoint/big.ckpt v1: content does not hash to its recorded sha256',
    );
  });

  it.skipIf(SCALE_OUT)('finds an artifact row renamed', async () => {
    const dir = await tamperedCopy((db) => {
      db.prepare(
        "UPDATE versions SET name = 'renamed.json' WHERE name = 'a.json' AND version = 2",
      ).run();
    });
    expectFailure(
      await verifyDir(dir),
      'version ai_avatar/avatar_config/renamed.json v2 has no audit entry',
      `audit entry ${facts.aV2Index} claims version ai_avatar/avatar_config/a.json v2 which is not stored`,
    );
  });

  it.skipIf(SCALE_OUT)('finds an artifact row pointed at other content', async () => {
    const dir = await tamperedCopy((db) => {
      db.prepare(
        "UPDATE versions SET sha256 = (SELECT sha256 FROM versions WHERE name = 'a.json' AND version = 1), " +
          "inline_content = (SELECT inline_content FROM versions WHERE name = 'a.json' AND version = 1) " +
          "WHERE name = 'a.json' AND version = 2",
      ).run();
    });
    expectFailure(
      await verifyDir(dir),
      new RegExp(
        `version ai_avatar/avatar_config/a\\.json v2 \\(sha256 [0-9a-f]{64}, size 7\\) does not match audit entry ${facts.aV2Index}`,
      ),
    );
  });

  it.skipIf(SCALE_OUT)('finds the log truncated behind an earlier checkpoint', async () => {
    const dir = await tamperedCopy((db) => {
      db.prepare('DELETE FROM audit_entries WHERE idx >= ?').run(facts.size - 3);
    });
    // The server's last checkpoint covered those entries: the log now ends before it.
    expectFailure(
      await verifyDir(dir),
      new RegExp(
        `log has ${facts.size - 3} entries but checkpoint at size \\d+ exists \\(truncated\\)`,
      ),
    );
  });

  it('reports storage it cannot read with exit 1, and a bad command line with exit 2', async () => {
    const missing = await verifyDir(join(work, 'nowhere'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot open the metadata database');
    const usage = await runCli(['audit', 'verify', '--export', exportFile]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--export and --vkey go together');
  });

  it('verifies an export offline with the public vkey, as a file or as the key itself', async () => {
    const fromFile = await runCli(['audit', 'verify', '--export', exportFile, '--vkey', vkeyFile]);
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain(`audit log verified: ${exportFile}`);
    const vkey = (await readFile(vkeyFile, 'utf8')).trim();
    const inline = await runCli([
      'audit',
      'verify',
      '--export',
      exportFile,
      '--vkey',
      vkey,
      '--json',
    ]);
    expect(inline.code).toBe(0);
    expect(JSON.parse(inline.stdout)).toMatchObject({ ok: true, checkpoints: 1, problems: [] });
  });

  it("verifies a product key's export: its entries, each proven against the checkpoint", async () => {
    const verified = await runCli([
      'audit',
      'verify',
      '--export',
      productExportFile,
      '--vkey',
      vkeyFile,
      '--json',
    ]);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    const report = JSON.parse(verified.stdout);
    expect(report).toMatchObject({ ok: true, checkpoints: 1, problems: [] });
    expect(report.entries).toBeGreaterThan(2);

    // One entry swapped for one of another product's, with its own true leaf hash and proof.
    const lines = (await readFile(productExportFile, 'utf8')).split('\n');
    const foreign = (await readFile(exportFile, 'utf8'))
      .split('\n')
      .map((line) => (line ? JSON.parse(line) : {}))
      .find((line) => {
        if (line.type !== 'entry') return false;
        const entry = JSON.parse(line.canonical);
        return entry.principal.product === 'core' && entry.target.product === 'core';
      });
    expect(foreign).toBeDefined();
    const swapped = { ...foreign, proof: JSON.parse(lines[1]!).proof };
    lines[1] = JSON.stringify(swapped);
    const file = join(work, 'avatar-edited.jsonl');
    await writeFile(file, lines.join('\n'));
    const result = await runCli(['audit', 'verify', '--export', file, '--vkey', vkeyFile]);
    expectFailure(result, /concerns neither a principal nor a target of ai_avatar/);
    expectFailure(result, /not included in the checkpoint's tree/);
  });

  it('finds one changed byte of an entry in an export', async () => {
    const lines = (await readFile(exportFile, 'utf8')).split('\n');
    const line = lines[1] as string;
    const entry = JSON.parse(line) as { index: number };
    // One byte inside the entry's canonical text: a letter of its time or id becomes another.
    const at = line.indexOf('requestId') + 20;
    const changed = line.slice(0, at) + (line[at] === 'a' ? 'b' : 'a') + line.slice(at + 1);
    expect(changed).not.toBe(line);
    lines[1] = changed;
    const file = join(work, 'edited.jsonl');
    await writeFile(file, lines.join('\n'));
    const result = await runCli(['audit', 'verify', '--export', file, '--vkey', vkeyFile]);
    expectFailure(result, `entry ${entry.index}: leaf hash mismatch`);
  });

  it('refuses an export checked with another key', async () => {
    const other = generateKeyPairSync('ed25519').privateKey;
    const wrong = encodeVerifierKey(facts.origin, ed25519PublicKeyBytes(other));
    const result = await runCli(['audit', 'verify', '--export', exportFile, '--vkey', wrong]);
    expectFailure(result, /checkpoint at size \d+: bad signature/);
  });
});
