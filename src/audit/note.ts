/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) bodies and C2SP signed-note
 * (https://c2sp.org/signed-note) with Ed25519 signatures, wire-compatible with Go's
 * golang.org/x/mod/sumdb/note. Pure: no I/O, only node:crypto.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export type NoteErrorCode =
  | 'malformed_note'
  | 'malformed_checkpoint'
  | 'unknown_key'
  | 'bad_signature'
  | 'malformed_vkey'
  | 'invalid_key_name';

export class NoteError extends Error {
  readonly code: NoteErrorCode;

  constructor(code: NoteErrorCode, message: string) {
    super(message);
    this.name = 'NoteError';
    this.code = code;
  }
}

/** signed-note signature type 0x01: Ed25519. */
const ED25519_TYPE = 0x01;
const ED25519_KEY_BYTES = 32;
const KEY_ID_BYTES = 4;
/** The tree is RFC 6962 with SHA-256, so a checkpoint root is always 32 bytes. */
const ROOT_HASH_BYTES = 32;
/** Same bound as Go's note.Open: parsing a note never costs unbounded work. */
const MAX_SIGNATURES = 100;
const SIGNATURE_PREFIX = '\u2014 ';

// Go's unicode.IsSpace: ASCII whitespace, NEL, NBSP and the Unicode Z categories.
const UNICODE_SPACE = /[\t\n\v\f\r \u0085\u00a0\p{Z}]/u;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_KEY_ID = /^[0-9a-fA-F]{8}$/;

/** C0 controls and DEL; `allowNewline` keeps `\n`, the only control a note may hold. */
function hasControlCharacter(text: string, allowNewline: boolean): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if ((code < 0x20 && !(allowNewline && code === 0x0a)) || code === 0x7f) return true;
  }
  return false;
}

/** A JS string is valid UTF-8 exactly when it survives the round trip (no lone surrogates). */
function isWellFormedUnicode(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

/** Standard base64 with padding, canonical only (the decoded bytes re-encode to the same text). */
function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** signed-note §Verifier keys: non-empty, no Unicode spaces, no '+' (and valid UTF-8, no controls). */
export function validKeyName(name: string): boolean {
  return (
    name.length > 0 &&
    !name.includes('+') &&
    !UNICODE_SPACE.test(name) &&
    !hasControlCharacter(name, false) &&
    isWellFormedUnicode(name)
  );
}

// ---------------------------------------------------------------------------------------------
// tlog-checkpoint

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Buffer;
}

function checkCheckpoint(checkpoint: Checkpoint): void {
  const { origin, size, rootHash } = checkpoint;
  if (origin.length === 0 || origin.includes('\n') || hasControlCharacter(origin, false)) {
    throw new NoteError(
      'malformed_checkpoint',
      'The checkpoint origin must be one non-empty line.',
    );
  }
  if (!isWellFormedUnicode(origin)) {
    throw new NoteError('malformed_checkpoint', 'The checkpoint origin is not valid UTF-8.');
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new NoteError('malformed_checkpoint', `The checkpoint size ${size} is not a tree size.`);
  }
  if (rootHash.length !== ROOT_HASH_BYTES) {
    throw new NoteError(
      'malformed_checkpoint',
      `The checkpoint root hash has ${rootHash.length} bytes, expected ${ROOT_HASH_BYTES}.`,
    );
  }
}

/** `<origin>\n<size>\n<base64 root>\n` (tlog-checkpoint §Note text). */
export function checkpointBody(checkpoint: Checkpoint): string {
  checkCheckpoint(checkpoint);
  const { origin, size, rootHash } = checkpoint;
  return `${origin}\n${size}\n${rootHash.toString('base64')}\n`;
}

/** Parses a checkpoint body (extension lines after the third are allowed and ignored); throws NoteError. */
export function parseCheckpointBody(text: string): Checkpoint {
  if (!text.endsWith('\n')) {
    throw new NoteError('malformed_checkpoint', 'The checkpoint does not end with a newline.');
  }
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) {
    throw new NoteError('malformed_checkpoint', 'The checkpoint has fewer than three lines.');
  }
  // Extension lines, when present, MUST be non-empty (tlog-checkpoint §Note text).
  if (lines.some((line) => line.length === 0)) {
    throw new NoteError('malformed_checkpoint', 'The checkpoint contains an empty line.');
  }
  const [origin = '', sizeLine = '', rootLine = ''] = lines;
  if (!DECIMAL.test(sizeLine)) {
    throw new NoteError(
      'malformed_checkpoint',
      'The checkpoint size is not a decimal number without leading zeros.',
    );
  }
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) {
    throw new NoteError('malformed_checkpoint', 'The checkpoint size is too large.');
  }
  const rootHash = decodeBase64Strict(rootLine);
  if (rootHash === undefined) {
    throw new NoteError(
      'malformed_checkpoint',
      'The checkpoint root hash is not canonical base64.',
    );
  }
  const checkpoint = { origin, size, rootHash };
  checkCheckpoint(checkpoint);
  return checkpoint;
}

// ---------------------------------------------------------------------------------------------
// signed-note keys

export interface NoteVerifier {
  readonly name: string;
  /** 32 raw Ed25519 public key bytes. */
  readonly publicKey: Buffer;
  readonly keyId: Buffer;
}

export interface NoteSigner extends NoteVerifier {
  sign(message: Buffer): Buffer;
}

function typedKey(publicKey: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(ED25519_TYPE), publicKey]);
}

/** First 4 bytes of SHA-256(name || 0x0A || 0x01 || publicKey) (signature type 0x01 = Ed25519). */
export function keyId(name: string, publicKey: Uint8Array): Buffer {
  return createHash('sha256')
    .update(Buffer.from(name, 'utf8'))
    .update(Buffer.of(0x0a))
    .update(typedKey(publicKey))
    .digest()
    .subarray(0, KEY_ID_BYTES);
}

/** `<name>+<8 hex key id>+<base64(0x01 || publicKey)>` */
export function encodeVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!validKeyName(name)) {
    throw new NoteError('invalid_key_name', 'The key name is empty or contains a space or "+".');
  }
  if (publicKey.length !== ED25519_KEY_BYTES) {
    throw new NoteError('malformed_vkey', 'An Ed25519 public key has 32 bytes.');
  }
  const id = keyId(name, publicKey).toString('hex');
  return `${name}+${id}+${typedKey(publicKey).toString('base64')}`;
}

export function parseVerifierKey(vkey: string): NoteVerifier {
  const firstPlus = vkey.indexOf('+');
  const secondPlus = vkey.indexOf('+', firstPlus + 1);
  if (firstPlus < 0 || secondPlus < 0) {
    throw new NoteError('malformed_vkey', 'A verifier key reads <name>+<key id>+<base64 key>.');
  }
  const name = vkey.slice(0, firstPlus);
  const idHex = vkey.slice(firstPlus + 1, secondPlus);
  // The base64 key may itself contain '+', so it is everything after the second one.
  const typedKeyBytes = decodeBase64Strict(vkey.slice(secondPlus + 1));
  if (!validKeyName(name)) {
    throw new NoteError('malformed_vkey', 'The verifier key name is empty or contains a space.');
  }
  if (!HEX_KEY_ID.test(idHex)) {
    throw new NoteError('malformed_vkey', 'The verifier key id is not 8 hex digits.');
  }
  if (typedKeyBytes === undefined || typedKeyBytes.length === 0) {
    throw new NoteError('malformed_vkey', 'The verifier public key is not canonical base64.');
  }
  if (typedKeyBytes[0] !== ED25519_TYPE) {
    throw new NoteError(
      'malformed_vkey',
      `The verifier key has signature type 0x${typedKeyBytes[0]?.toString(16).padStart(2, '0')}, only 0x01 (Ed25519) is supported.`,
    );
  }
  const publicKey = typedKeyBytes.subarray(1);
  if (publicKey.length !== ED25519_KEY_BYTES) {
    throw new NoteError(
      'malformed_vkey',
      `The verifier public key has ${publicKey.length} bytes, expected ${ED25519_KEY_BYTES}.`,
    );
  }
  const id = keyId(name, publicKey);
  if (!id.equals(Buffer.from(idHex, 'hex'))) {
    throw new NoteError(
      'malformed_vkey',
      `The verifier key id ${idHex.toLowerCase()} does not match its name and key (${id.toString('hex')}).`,
    );
  }
  return { name, publicKey: Buffer.from(publicKey), keyId: id };
}

/** The 32 raw public key bytes of an Ed25519 KeyObject (private or public). */
export function ed25519PublicKeyBytes(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`Expected an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}.`);
  }
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const { x } = publicKey.export({ format: 'jwk' });
  return Buffer.from(x ?? '', 'base64url');
}

/** Creates a signer from an Ed25519 KeyObject (private) and a key name. */
export function createSigner(name: string, privateKey: KeyObject): NoteSigner {
  if (!validKeyName(name)) {
    throw new NoteError('invalid_key_name', 'The key name is empty or contains a space or "+".');
  }
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('A note signer needs an Ed25519 private key.');
  }
  const publicKey = ed25519PublicKeyBytes(privateKey);
  return {
    name,
    publicKey,
    keyId: keyId(name, publicKey),
    sign: (message) => sign(null, message, privateKey),
  };
}

// ---------------------------------------------------------------------------------------------
// signed-note notes

/** signed-note §Note text: non-empty, valid UTF-8, newline-terminated, no controls but newline. */
function checkNoteCharacters(note: string, what: string): void {
  if (!isWellFormedUnicode(note)) {
    throw new NoteError('malformed_note', `The ${what} is not valid UTF-8.`);
  }
  if (hasControlCharacter(note, true)) {
    throw new NoteError('malformed_note', `The ${what} contains a control character.`);
  }
}

/** The note text followed by a blank line and one signature line: `— <name> <base64(keyId || signature)>\n`. */
export function signNote(text: string, signer: NoteSigner): string {
  if (text.length === 0 || !text.endsWith('\n')) {
    throw new NoteError(
      'malformed_note',
      'The note text must be non-empty and end with a newline.',
    );
  }
  // A blank line inside the text is legal in the spec (the last one separates the signatures),
  // but nothing we sign needs one, so we never produce that case.
  if (text.startsWith('\n') || text.includes('\n\n')) {
    throw new NoteError('malformed_note', 'The note text must not contain an empty line.');
  }
  checkNoteCharacters(text, 'note text');
  if (!validKeyName(signer.name)) {
    throw new NoteError('invalid_key_name', 'The key name is empty or contains a space or "+".');
  }
  const signature = signer.sign(Buffer.from(text, 'utf8'));
  const blob = Buffer.concat([signer.keyId, signature]).toString('base64');
  return `${text}\n${SIGNATURE_PREFIX}${signer.name} ${blob}\n`;
}

interface SignatureLine {
  readonly name: string;
  readonly keyId: Buffer;
  readonly signature: Buffer;
}

function parseSignatureLine(line: string): SignatureLine {
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    throw new NoteError('malformed_note', 'A signature line does not start with "— ".');
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const blob = space < 0 ? undefined : decodeBase64Strict(rest.slice(space + 1));
  if (!validKeyName(name) || blob === undefined || blob.length <= KEY_ID_BYTES) {
    throw new NoteError('malformed_note', 'A signature line is not "— <name> <base64>".');
  }
  return { name, keyId: blob.subarray(0, KEY_ID_BYTES), signature: blob.subarray(KEY_ID_BYTES) };
}

export function verifierKeyObject(verifier: NoteVerifier): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: verifier.publicKey.toString('base64url') },
    format: 'jwk',
  });
}

/**
 * Checks the note carries a valid signature by `verifier` (signature lines by other keys are
 * ignored, as the spec requires) and returns the signed text. Every line claiming `verifier`'s
 * name and key id must verify.
 */
export function openNote(note: string, verifier: NoteVerifier): string {
  checkNoteCharacters(note, 'note');
  // The signature block follows the last blank line (signed-note §Signatures), as in Go's Open.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) {
    throw new NoteError('malformed_note', 'The note has no blank line before its signatures.');
  }
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) {
    throw new NoteError('malformed_note', 'The note signature block must end with a newline.');
  }
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) {
    throw new NoteError('malformed_note', `The note has more than ${MAX_SIGNATURES} signatures.`);
  }
  const signatures = lines.map(parseSignatureLine);
  const ours = signatures.filter(
    (line) => line.name === verifier.name && line.keyId.equals(verifier.keyId),
  );
  if (ours.length === 0) {
    throw new NoteError(
      'unknown_key',
      `The note is not signed by ${verifier.name}+${verifier.keyId.toString('hex')}.`,
    );
  }
  const message = Buffer.from(text, 'utf8');
  const key = verifierKeyObject(verifier);
  for (const line of ours) {
    let valid: boolean;
    try {
      valid = verify(null, message, key, line.signature);
    } catch {
      valid = false;
    }
    if (!valid) {
      throw new NoteError(
        'bad_signature',
        `The signature by ${verifier.name}+${verifier.keyId.toString('hex')} does not verify.`,
      );
    }
  }
  return text;
}
