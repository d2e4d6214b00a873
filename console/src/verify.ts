/**
 * Audit proofs checked in the browser (SPEC §6, §14) with WebCrypto only: the verifier key the
 * user pins, the C2SP signed-note checkpoint (Ed25519), RFC 6962 leaf hashes and the RFC 9162
 * inclusion and consistency proofs. Nothing the server says is taken on its word: the root an
 * inclusion proof must reach is the signed checkpoint's, never the proof answer's `rootHash`.
 * (The server's own verifier, src/audit/proof.ts and note.ts, uses node:crypto; this is its port.)
 */
export class VerifyError extends Error {}

const encoder = new TextEncoder();

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function fromHex(text: string, what: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/i.test(text)) throw new VerifyError(`${what} is not hex`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function fromBase64(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new VerifyError(`${what} is not base64`);
  }
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function subtle(): typeof globalThis.crypto.subtle {
  if (!globalThis.crypto?.subtle) {
    throw new VerifyError('this page has no WebCrypto: open the console over HTTPS or localhost');
  }
  return globalThis.crypto.subtle;
}

export async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-256', concat(...parts)));
}

/** RFC 6962: SHA-256(0x00 ‖ entry bytes). */
export function leafHash(canonical: string): Promise<Uint8Array> {
  return sha256(Uint8Array.of(0), encoder.encode(canonical));
}

const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256(Uint8Array.of(1), left, right);

export interface VerifierKey {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** `<name>+<8 hex key id>+<base64(0x01 ‖ public key)>`, its key id checked. */
export async function parseVerifierKey(vkey: string): Promise<VerifierKey> {
  const text = vkey.trim();
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first <= 0 || second < 0) {
    throw new VerifyError('the verifier key does not read <name>+<key id>+<base64 key>');
  }
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  if (!/^[0-9a-f]{8}$/i.test(idHex))
    throw new VerifyError('the verifier key id is not 8 hex digits');
  const typed = fromBase64(text.slice(second + 1), 'the verifier public key');
  if (typed.length !== 33 || typed[0] !== 1) {
    throw new VerifyError('the verifier key is not an Ed25519 key (type 0x01, 32 bytes)');
  }
  const keyId = (await sha256(encoder.encode(name), Uint8Array.of(0x0a), typed)).subarray(0, 4);
  if (hex(keyId) !== idHex.toLowerCase()) {
    throw new VerifyError('the verifier key id does not match its name and key');
  }
  return { name, keyId, publicKey: typed.subarray(1) };
}

export interface SignedCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
}

/** Opens a signed note with the pinned key and parses its checkpoint body. */
export async function openCheckpoint(note: string, key: VerifierKey): Promise<SignedCheckpoint> {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new VerifyError('the checkpoint note has no signature block');
  const text = note.slice(0, split + 1);
  const lines = note
    .slice(split + 2)
    .replace(/\n$/, '')
    .split('\n');
  const publicKey = await subtle().importKey(
    'raw',
    concat(key.publicKey),
    { name: 'Ed25519' },
    false,
    ['verify'],
  );
  let signed = false;
  for (const line of lines) {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match || match[1] !== key.name) continue;
    const blob = fromBase64(match[2] ?? '', 'a note signature');
    if (blob.length !== 68 || !equal(blob.subarray(0, 4), key.keyId)) continue;
    const ok = await subtle().verify(
      { name: 'Ed25519' },
      publicKey,
      concat(blob.subarray(4)),
      concat(encoder.encode(text)),
    );
    if (!ok) throw new VerifyError('the checkpoint signature does not verify with the pinned key');
    signed = true;
  }
  if (!signed) throw new VerifyError('the checkpoint carries no signature by the pinned key');
  const [origin = '', sizeLine = '', rootLine = ''] = text.slice(0, -1).split('\n');
  if (origin !== key.name) throw new VerifyError(`the checkpoint origin is not ${key.name}`);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine))
    throw new VerifyError('the checkpoint size is not a number');
  const root = fromBase64(rootLine, 'the checkpoint root');
  if (root.length !== 32) throw new VerifyError('the checkpoint root is not 32 bytes');
  return { origin, size: Number(sizeLine), root };
}

const half = (n: number) => Math.floor(n / 2);

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to. */
export async function inclusionRoot(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Promise<Uint8Array> {
  if (!(index >= 0 && index < size)) throw new VerifyError(`index ${index} is not in size ${size}`);
  let fn = index;
  let sn = size - 1;
  let root = leaf;
  for (const hash of proof) {
    if (sn === 0) throw new VerifyError('the inclusion proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      root = await nodeHash(hash, root);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      root = await nodeHash(root, hash);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new VerifyError('the inclusion proof is too short');
  return root;
}

/** RFC 9162 §2.1.4.2: throws unless the tree of `to` leaves extends the one of `from`. */
export async function verifyConsistency(
  from: number,
  to: number,
  fromRoot: Uint8Array,
  toRoot: Uint8Array,
  proof: readonly Uint8Array[],
): Promise<void> {
  if (from > to) throw new VerifyError(`the log shrank from ${from} to ${to} entries`);
  if (from === to) {
    if (proof.length > 0 || !equal(fromRoot, toRoot)) {
      throw new VerifyError(`two checkpoints of size ${from} have different roots`);
    }
    return;
  }
  if (from === 0) return;
  const powerOfTwo = (from & (from - 1)) === 0;
  const path = powerOfTwo ? [fromRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  const [first, ...rest] = path;
  if (!first) throw new VerifyError('the consistency proof is empty');
  let fr = first;
  let sr = first;
  for (const hash of rest) {
    if (sn === 0) throw new VerifyError('the consistency proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(hash, fr);
      sr = await nodeHash(hash, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = await nodeHash(sr, hash);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new VerifyError('the consistency proof is too short');
  if (!equal(fr, fromRoot))
    throw new VerifyError('the consistency proof does not reach the earlier root');
  if (!equal(sr, toRoot))
    throw new VerifyError('the consistency proof does not reach the signed root');
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return equal(a, b);
}
