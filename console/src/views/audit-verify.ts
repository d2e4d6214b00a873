/**
 * The Verify button's checks, in order: the pinned key parses; the entry's canonical bytes hash
 * to its leaf; the latest checkpoint is signed by the pinned key; the inclusion proof leads from
 * the leaf to that signed root; and that checkpoint is consistent with the last one this browser
 * verified under the same key (kept in localStorage: checkpoints are public).
 */
import { api } from '../api';
import {
  equalBytes,
  fromHex,
  hex,
  inclusionRoot,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  type SignedCheckpoint,
} from '../verify';
import type { AuditEntry, Checkpoint } from './audit-data';

export type Verdict = { ok: true; steps: string[] } | { ok: false; reason: string };

const SEEN_STORE = 'bucket.checkpoint.';

interface Seen {
  size: number;
  root: string;
}

async function signedCheckpointCovering(
  index: number,
  key: Awaited<ReturnType<typeof parseVerifierKey>>,
): Promise<SignedCheckpoint> {
  // A checkpoint is issued at least every second while entries arrive (SPEC §6).
  for (let attempt = 0; ; attempt++) {
    const answer = await api<Checkpoint>('/v1/audit/checkpoint');
    const signed = await openCheckpoint(answer.note, key);
    if (signed.size > index || attempt >= 5) return signed;
    await new Promise((resolve) => setTimeout(resolve, 600));
  }
}

export async function verifyEntry(
  detail: { entry: AuditEntry; canonical: string },
  vkey: string,
): Promise<Verdict> {
  const steps: string[] = [];
  try {
    const key = await parseVerifierKey(vkey);
    const index = detail.entry.index;
    const leaf = await leafHash(detail.canonical);
    const parsed = JSON.parse(detail.canonical) as { index?: unknown };
    if (parsed.index !== index)
      return { ok: false, reason: 'the canonical bytes name another index' };
    steps.push(`Leaf hash of entry #${index} computed here: ${hex(leaf)}`);
    const checkpoint = await signedCheckpointCovering(index, key);
    if (checkpoint.size <= index) {
      return {
        ok: false,
        reason: `the latest checkpoint (size ${checkpoint.size}) does not cover entry #${index} yet`,
      };
    }
    steps.push(`Checkpoint of size ${checkpoint.size} signed by ${key.name} (Ed25519)`);
    const inclusion = await api<{ proof: string[] }>(
      `/v1/audit/proof/inclusion?index=${index}&size=${checkpoint.size}`,
    );
    const root = await inclusionRoot(
      index,
      checkpoint.size,
      leaf,
      inclusion.proof.map((h, i) => fromHex(h, `inclusion proof hash ${i}`)),
    );
    if (!equalBytes(root, checkpoint.root)) {
      return {
        ok: false,
        reason: 'the inclusion proof does not lead to the signed checkpoint root',
      };
    }
    steps.push(
      `Inclusion proof (${inclusion.proof.length} hashes) reaches the signed root ${hex(checkpoint.root)}`,
    );
    const storeName = SEEN_STORE + vkey.trim();
    const seen = JSON.parse(localStorage.getItem(storeName) ?? 'null') as Seen | null;
    if (seen && seen.size > 0 && seen.size <= checkpoint.size) {
      const consistency = await api<{ proof: string[] }>(
        `/v1/audit/proof/consistency?from=${seen.size}&to=${checkpoint.size}`,
      );
      await verifyConsistency(
        seen.size,
        checkpoint.size,
        fromHex(seen.root, 'the earlier root'),
        checkpoint.root,
        consistency.proof.map((h, i) => fromHex(h, `consistency proof hash ${i}`)),
      );
      steps.push(
        `Consistent with the checkpoint of size ${seen.size} verified before (${consistency.proof.length} hashes)`,
      );
    } else if (seen && seen.size > checkpoint.size) {
      return {
        ok: false,
        reason: `the log shrank: size ${checkpoint.size} after ${seen.size} was verified`,
      };
    } else {
      steps.push(
        'First checkpoint verified with this key in this browser: kept for the next consistency check',
      );
    }
    localStorage.setItem(
      storeName,
      JSON.stringify({ size: checkpoint.size, root: hex(checkpoint.root) }),
    );
    return { ok: true, steps };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
