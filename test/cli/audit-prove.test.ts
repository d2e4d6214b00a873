/**
 * `bucket audit prove` against a real server: an auditor holding only the verifier key checks the
 * signed checkpoint, a write's receipt, and that the log still extends a checkpoint saved earlier —
 * and each forgery or mismatch is refused with exit 1 and named.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointBody, createSigner, encodeVerifierKey, signNote } from '../../src/audit/note.js';
import { loadSigningKey } from '../../src/audit/signing-key.js';
import { client, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket audit prove', () => {
  const cli = cliServer();
  let vkeyFile: string;
  let origin: string;
  let writer: ReturnType<typeof client>;
  let env: { BUCKET_URL: string; BUCKET_KEY: string };

  const put = async (name: string) => {
    const answer = await writer('PUT', `/v1/artifacts/ai_avatar/model_checkpoint/prove/${name}`, {
      body: Buffer.from(`weights of ${name}`),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(answer.status).toBe(201);
    return answer.json.audit as { leafIndex: number; leafHash: string };
  };

  /** A checkpoint note for `size` and `rootHash`, signed with the server's own signing key. */
  async function signedByTheServer(
    size: number,
    rootHash: Buffer,
    logOrigin = origin,
  ): Promise<string> {
    const keyFile =
      cli.server.backend?.env['BUCKET_AUDIT_KEY_FILE'] ??
      join(cli.server.dataDir, 'audit-signing.pem');
    const { privateKey } = await loadSigningKey(keyFile, { create: false });
    return signNote(
      checkpointBody({ origin: logOrigin, size, rootHash }),
      createSigner(origin, privateKey),
    );
  }

  beforeAll(async () => {
    const { key } = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    writer = client(cli.server.url, key);
    env = cli.as(key);
    const publicKey = await client(cli.server.url, cli.server.ownerKey)(
      'GET',
      '/v1/audit/public-key',
    );
    origin = publicKey.json.name;
    vkeyFile = join(cli.dir, 'audit.vkey');
    await writeFile(vkeyFile, `${publicKey.json.vkey}\n`);
  });

  it("proves a write's receipt in the signed tree, and the log's growth since a saved checkpoint", async () => {
    const saved = join(cli.dir, 'first.checkpoint');
    const first = await runCli(['audit', 'prove', '--vkey', vkeyFile, '--save-checkpoint', saved], {
      env,
    });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/signature verified with key [0-9a-f]{8}/);
    expect(await readFile(saved, 'utf8')).toMatch(new RegExp(`^${origin}\\n\\d+\\n`));

    const receipt = await put('a.bin');
    await put('b.bin');
    const proved = await runCli(
      [
        'audit',
        'prove',
        String(receipt.leafIndex),
        '--leaf-hash',
        receipt.leafHash,
        '--vkey',
        vkeyFile,
        '--since-checkpoint',
        saved,
        '--json',
      ],
      { env },
    );
    expect(proved.code, proved.stderr).toBe(0);
    const report = JSON.parse(proved.stdout);
    expect(report).toMatchObject({
      ok: true,
      checkpoint: { origin },
      entry: {
        index: receipt.leafIndex,
        leafHash: receipt.leafHash,
        decision: expect.stringMatching(/^ALLOW 201 CREATE by key_/),
      },
      consistency: { to: report.checkpoint.size },
    });
    expect(report.checkpoint.size).toBeGreaterThan(receipt.leafIndex);
    expect(report.consistency.from).toBeLessThan(report.consistency.to);

    const text = await runCli(['audit', 'prove', '--vkey', vkeyFile, '--since-checkpoint', saved], {
      env,
    });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /consistent: +the log of \d+ entries extends the saved checkpoint of \d+ \(\d+ proof hash(es)?\)/,
    );
  });

  it('runs one command line from the first day on: a rolling checkpoint file not saved yet', async () => {
    const rolling = join(cli.dir, 'rolling.checkpoint');
    const args = ['audit', 'prove', '--vkey', vkeyFile];
    const roll = [...args, '--since-checkpoint', rolling, '--save-checkpoint', rolling];
    const first = await runCli(roll, { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^consistent: +not checked: nothing was saved in .*rolling\.checkpoint yet \(a first run\)/m,
    );
    expect(await readFile(rolling, 'utf8')).toMatch(new RegExp(`^${origin}\\n\\d+\\n`));

    await put('rolling.bin');
    const next = await runCli([...roll, '--json'], { env });
    expect(next.code, next.stderr).toBe(0);
    const report = JSON.parse(next.stdout);
    expect(report.firstRun).toBeUndefined();
    expect(report.consistency.from).toBeLessThan(report.consistency.to);

    // A checkpoint to compare with that is not there, and is not the one being saved: the
    // command line is wrong, nothing is assumed.
    const missing = await runCli([...args, '--since-checkpoint', join(cli.dir, 'absent')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read --since-checkpoint .*absent: ENOENT/);
  });

  it("proves a receipt from its leaf hash where the key may not read the entry (another product's)", async () => {
    const receipt = await put('shared.bin');
    const other = await createKey(cli.server, { kind: 'product', product: 'gurukul' });
    const args = ['audit', 'prove', String(receipt.leafIndex), '--vkey', vkeyFile];
    const result = await runCli([...args, '--leaf-hash', receipt.leafHash], {
      env: cli.as(other.key),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/receipt proved; the entry is not readable with this key/);
    // Without the receipt's hash there is nothing to prove: the entry's refusal is the answer.
    const unread = await runCli(args, { env: cli.as(other.key) });
    expect(unread.code).toBe(1);
  });

  it('refuses a checkpoint signed by another key, naming the key it expected', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'jwk' }).x ?? '';
    const impostor = join(cli.dir, 'impostor.vkey');
    await writeFile(impostor, encodeVerifierKey(origin, Buffer.from(raw, 'base64url')));
    const result = await runCli(['audit', 'prove', '--vkey', impostor], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the current checkpoint does not verify with the key/);
  });

  it('refuses a receipt whose leaf hash is not the entry’s', async () => {
    const receipt = await put('c.bin');
    const wrong = receipt.leafHash.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const result = await runCli(
      ['audit', 'prove', String(receipt.leafIndex), '--leaf-hash', wrong, '--vkey', vkeyFile],
      { env },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`hashes to ${receipt.leafHash}, not to the receipt's ${wrong}`),
    );
  });

  it('detects a fork: a signed checkpoint the current log does not extend', async () => {
    const current = await client(cli.server.url, cli.server.ownerKey)(
      'GET',
      '/v1/audit/checkpoint',
    );
    const size: number = current.json.size;
    // What a server that later rewrote its log would have signed for an auditor: an earlier size
    // with another root.
    const forked = join(cli.dir, 'forked.checkpoint');
    await writeFile(forked, await signedByTheServer(size - 1, Buffer.alloc(32, 7)));
    const result = await runCli(
      ['audit', 'prove', '--vkey', vkeyFile, '--since-checkpoint', forked],
      {
        env,
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/does not extend the saved checkpoint of \d+/);

    // A log shorter than what was signed: truncated behind an auditor's back.
    const longer = join(cli.dir, 'longer.checkpoint');
    await writeFile(longer, await signedByTheServer(size + 1000, Buffer.alloc(32, 9)));
    const truncated = await runCli(
      ['audit', 'prove', '--vkey', vkeyFile, '--since-checkpoint', longer, '--json'],
      { env },
    );
    expect(truncated.code).toBe(1);
    expect(JSON.parse(truncated.stdout)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(
        /fewer than the \d+ of the saved checkpoint: it was truncated/,
      ),
    });
  });

  it("refuses a saved checkpoint of another log, though signed by this log's key", async () => {
    const other = join(cli.dir, 'other-log.checkpoint');
    await writeFile(other, await signedByTheServer(1, Buffer.alloc(32, 3), 'another.example/log'));
    const result = await runCli(
      ['audit', 'prove', '--vkey', vkeyFile, '--since-checkpoint', other],
      {
        env,
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is of the log another\.example\/log, not of /);
  });

  it('refuses an entry beyond the signed log, and bad command lines with exit 2', async () => {
    const beyond = await runCli(['audit', 'prove', '999999', '--vkey', vkeyFile], { env });
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toMatch(/entry 999999 is not in the signed log/);
    const noKey = await runCli(['audit', 'prove'], { env });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--vkey/);
    const badHash = await runCli(
      ['audit', 'prove', '1', '--leaf-hash', 'xyz', '--vkey', vkeyFile],
      {
        env,
      },
    );
    expect(badHash.code).toBe(2);
  });
});
