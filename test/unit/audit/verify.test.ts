/**
 * The audit log verifier (audit/verify.ts) on logs built in memory: entries (edited, deleted,
 * swapped, not canonical), checkpoints (altered, foreign, truncated behind), partial exports and
 * many problems. Versions against their entries: verify-versions.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CompactRange, decompose } from '../../../src/audit/compact.js';
import { leafHash } from '../../../src/audit/rfc6962.js';
import {
  verifyAuditLog,
  type VerifyCheckpoint,
  type VerifyEntry,
} from '../../../src/audit/verify.js';
import {
  ORIGIN,
  buildLog,
  codes,
  edit,
  newSigner,
  problemsOf,
  signedCheckpoint,
  sourceOf,
  verifierOf,
} from '../../helpers/audit-log.js';

describe('verifyAuditLog', () => {
  it('finds nothing wrong in a clean log and reports what it checked', async () => {
    const log = buildLog();
    const progress: number[] = [];
    const report = await verifyAuditLog(
      sourceOf(log, { onProgress: (done) => progress.push(done) }),
    );
    const tree = CompactRange.empty();
    for (const entry of log.entries) tree.append(leafHash(entry.canonical));
    expect(report).toMatchObject({
      entries: 20,
      treeSize: 20,
      rootHash: tree.root().toString('hex'),
      checkpoints: 5,
      checkpointsSkipped: 0,
      versions: 5,
      problems: [],
      problemCount: 0,
    });
    expect(progress.at(-1)).toBe(20);
  });

  it('names an entry whose bytes were edited (stored leaf hash kept)', async () => {
    const log = buildLog();
    const entry = log.entries[6] as VerifyEntry;
    log.entries[6] = { ...entry, canonical: edit(entry.canonical, '"READ"', '"REAP"') };
    const problems = await problemsOf(sourceOf(log));
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^entry 6: leaf hash mismatch \(stored /)]),
    );
    // Every checkpoint covering entry 6 no longer matches the recomputed tree.
    const roots = problems.filter((p) => p.code === 'checkpoint_root').map((p) => p.message);
    expect(roots).toHaveLength(2 * 3); // stored root and signed root, at sizes 8, 13 and 20
    expect(roots[0]).toMatch(/^checkpoint at size 8: /);
  });

  it('names checkpoints that disagree with an entry edited together with its leaf hash', async () => {
    const log = buildLog();
    const canonical = edit((log.entries[15] as VerifyEntry).canonical, '"READ"', '"REAP"');
    log.entries[15] = { index: 15, canonical, leafHash: leafHash(canonical) };
    const problems = await problemsOf(sourceOf(log));
    expect(codes(problems)).toEqual(['checkpoint_root']);
    expect(problems[0]?.message).toMatch(
      /^checkpoint at size 20: stored root [0-9a-f]{64} does not match the log/,
    );
  });

  it('names a deleted entry', async () => {
    const log = buildLog();
    log.entries.splice(9, 1);
    const problems = await problemsOf(sourceOf(log, { size: 20 }));
    expect(problems[0]).toEqual({
      code: 'entry_missing',
      message: 'entry 9 is missing (the log jumps from 8 to 10)',
    });
    expect(codes(problems)).toEqual(['checkpoint_root', 'entry_missing', 'truncated']);
    // 19 leaves remain, so the checkpoint of 20 claims more than the log holds.
    expect(problems.map((p) => p.message)).toContain(
      'log has 19 entries but checkpoint at size 20 exists (truncated)',
    );
  });

  it('names missing entries at the end of a log that says it is longer', async () => {
    const log = buildLog(20, [0, 5]);
    log.entries.splice(17);
    const problems = await problemsOf(sourceOf(log, { size: 20 }));
    expect(problems).toEqual([
      {
        code: 'entry_missing',
        message: 'entries 17..19 are missing: the log has size 20 but its entries end at 17',
      },
    ]);
  });

  it('names two swapped entries', async () => {
    const log = buildLog();
    const [a, b] = [log.entries[3] as VerifyEntry, log.entries[4] as VerifyEntry];
    log.entries[3] = { ...b, index: 3 };
    log.entries[4] = { ...a, index: 4 };
    const problems = await problemsOf(sourceOf(log));
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining(['entry 3: its bytes say index 4', 'entry 4: its bytes say index 3']),
    );
    expect(codes(problems)).toEqual(['checkpoint_root', 'entry_index_mismatch']);
  });

  it('names a duplicated entry and entries out of order', async () => {
    const log = buildLog(8, []);
    log.entries.splice(5, 0, log.entries[4] as VerifyEntry);
    const problems = await problemsOf(sourceOf(log, { size: 8 }));
    expect(problems[0]).toEqual({
      code: 'entry_out_of_order',
      message: 'entry 4 appears again after entry 4 (duplicated or out of order)',
    });
  });

  it('names bytes that are JSON but not RFC 8785 canonical', async () => {
    const log = buildLog();
    const canonical = edit(
      (log.entries[1] as VerifyEntry).canonical,
      '"allow":true,',
      '"allow": true,',
    );
    log.entries[1] = { index: 1, canonical };
    const problems = await problemsOf(sourceOf(log, { checkpoints: [] }));
    expect(problems).toEqual([
      {
        code: 'entry_not_canonical',
        message: 'entry 1: its bytes are not RFC 8785 canonical JSON',
      },
    ]);
  });

  it('names bytes that are not JSON', async () => {
    const log = buildLog();
    log.entries[2] = { index: 2, canonical: Buffer.from('{"index":2') };
    const problems = await problemsOf(sourceOf(log, { checkpoints: [] }));
    expect(problems).toEqual([
      { code: 'entry_malformed', message: 'entry 2: its bytes are not JSON' },
    ]);
  });

  it('names a checkpoint whose note was altered', async () => {
    const log = buildLog();
    const checkpoint = log.checkpoints[2] as VerifyCheckpoint;
    log.checkpoints[2] = { ...checkpoint, note: checkpoint.note.replace('\n8\n', '\n9\n') };
    const problems = await problemsOf(sourceOf(log));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.code).toBe('checkpoint_signature');
    expect(problems[0]?.message).toMatch(/^checkpoint at size 8: bad signature/);
  });

  it('names checkpoints signed by another key', async () => {
    const log = buildLog();
    const problems = await problemsOf(sourceOf(log, { verifier: verifierOf(newSigner()) }));
    expect(problems).toHaveLength(5);
    expect(problems.every((p) => p.code === 'checkpoint_signature')).toBe(true);
    expect(problems[0]?.message).toMatch(/^checkpoint at size 0: bad signature \(.*not signed by/);
  });

  it('names a checkpoint of another origin, and one whose note says another size', async () => {
    const log = buildLog();
    const original = log.checkpoints[1] as VerifyCheckpoint;
    log.checkpoints[1] = signedCheckpoint(log.signer, 5, original.rootHash as Buffer, 'elsewhere');
    const at13 = log.checkpoints[3] as VerifyCheckpoint;
    log.checkpoints[3] = {
      ...signedCheckpoint(log.signer, 14, at13.rootHash as Buffer),
      size: 13,
    };
    const problems = await problemsOf(sourceOf(log));
    expect(problems).toEqual([
      {
        code: 'checkpoint_origin',
        message: `checkpoint at size 5: origin "elsewhere" does not match the key name "${ORIGIN}"`,
      },
      { code: 'checkpoint_size', message: 'checkpoint at size 13: its signed note says size 14' },
    ]);
  });

  it('names a log truncated behind a checkpoint', async () => {
    const log = buildLog();
    log.entries.splice(15);
    const problems = await problemsOf(
      sourceOf(log, { size: 15, versions: log.versions.slice(0, 4) }),
    );
    expect(problems).toEqual([
      {
        code: 'truncated',
        message: 'log has 15 entries but checkpoint at size 20 exists (truncated)',
      },
    ]);
  });

  it('names checkpoints whose sizes do not grow', async () => {
    const log = buildLog();
    log.checkpoints.push(log.checkpoints[1] as VerifyCheckpoint);
    const problems = await problemsOf(sourceOf(log));
    expect(problems).toEqual([
      {
        code: 'checkpoint_order',
        message: 'checkpoint at size 5: comes after the one at size 20 (sizes must grow)',
      },
    ]);
  });

  it('verifies a partial export from its frontier, and names a wrong frontier', async () => {
    const log = buildLog();
    const from = 13;
    const tree = CompactRange.empty();
    for (const entry of log.entries.slice(0, from)) tree.append(leafHash(entry.canonical));
    expect(tree.hashes()).toHaveLength(decompose(0, from).length);
    const partial = {
      entries: log.entries.slice(from),
      from,
      frontier: tree.hashes(),
      size: 20,
      checkpoints: log.checkpoints.slice(-1),
      verifier: verifierOf(log.signer),
    };
    const report = await verifyAuditLog(partial);
    expect(report).toMatchObject({ entries: 7, treeSize: 20, checkpoints: 1, problems: [] });

    const withEarlier = await verifyAuditLog({ ...partial, checkpoints: log.checkpoints });
    expect(withEarlier).toMatchObject({ checkpoints: 2, checkpointsSkipped: 3, problems: [] });

    const wrongHash = [...tree.hashes()];
    wrongHash[0] = Buffer.alloc(32);
    const wrong = await verifyAuditLog({ ...partial, frontier: wrongHash });
    expect(codes(wrong.problems)).toEqual(['checkpoint_root']);

    const short = await verifyAuditLog({ ...partial, frontier: tree.hashes().slice(1) });
    expect(codes(short.problems)).toEqual(['checkpoint_root', 'frontier_invalid']);
    expect(short.problems[0]?.message).toMatch(/^the frontier before entry 13 is invalid/);
  });

  it('keeps going past many problems, listing the first ones and counting all', async () => {
    const log = buildLog(300, []);
    const entries = log.entries.map((entry) => ({ ...entry, leafHash: Buffer.alloc(32) }));
    const report = await verifyAuditLog(sourceOf(log, { entries, maxProblems: 100 }));
    expect(report.problems).toHaveLength(100);
    expect(report.problemCount).toBe(300);
    expect(report.entries).toBe(300);
  });
});
