import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkpointBody,
  createSigner,
  encodeVerifierKey,
  keyId,
  NoteError,
  openNote,
  parseCheckpointBody,
  parseVerifierKey,
  signNote,
  validKeyName,
  type NoteErrorCode,
} from '../../../src/audit/note.js';

// The example published with golang.org/x/mod/sumdb/note (package doc and note_test.go).
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_SKEY_BASE64 = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'; // 0x01 || seed, from PRIVATE+KEY+PeterNeumann+c74f20a3+…
const GO_TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const GO_NOTE =
  GO_TEXT +
  '\n' +
  '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

/** An Ed25519 private key from its 32-byte seed (RFC 8410 PKCS#8 prefix). */
function keyFromSeed(seed: Buffer) {
  const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' });
}

function newSigner(name: string) {
  return createSigner(name, generateKeyPairSync('ed25519').privateKey);
}

function expectNoteError(action: () => unknown, code: NoteErrorCode): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(NoteError);
  expect((thrown as NoteError).code).toBe(code);
}

const ORIGIN = 'bhiv-bucket/test-installation';
const ROOT = createHash('sha256').update('root').digest();

describe('the published Go sumdb/note vector', () => {
  it('opens the example note with the example verifier key', () => {
    const verifier = parseVerifierKey(GO_VKEY);
    expect(verifier.name).toBe('PeterNeumann');
    expect(verifier.keyId.toString('hex')).toBe('c74f20a3');
    expect(openNote(GO_NOTE, verifier)).toBe(GO_TEXT);
  });

  it('reproduces the example signature and verifier key from the example private key', () => {
    const seed = Buffer.from(GO_SKEY_BASE64, 'base64');
    expect(seed[0]).toBe(0x01);
    const signer = createSigner('PeterNeumann', keyFromSeed(seed.subarray(1)));
    expect(encodeVerifierKey(signer.name, signer.publicKey)).toBe(GO_VKEY);
    expect(signNote(GO_TEXT, signer)).toBe(GO_NOTE);
  });

  it('rejects the example note once its text changes', () => {
    const altered = GO_NOTE.replace('cryptography', 'cryptographY');
    expectNoteError(() => openNote(altered, parseVerifierKey(GO_VKEY)), 'bad_signature');
  });
});

describe('keys', () => {
  it('computes the key id as SHA-256(name || 0x0A || 0x01 || key)[:4]', () => {
    const signer = newSigner('example.com/log');
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('example.com/log\n'), Buffer.of(1), signer.publicKey]))
      .digest()
      .subarray(0, 4);
    expect(keyId('example.com/log', signer.publicKey).equals(expected)).toBe(true);
    expect(signer.keyId.equals(expected)).toBe(true);
    expect(signer.publicKey).toHaveLength(32);
  });

  it('round-trips a verifier key', () => {
    const signer = newSigner(ORIGIN);
    const vkey = encodeVerifierKey(signer.name, signer.publicKey);
    expect(vkey).toMatch(/^bhiv-bucket\/test-installation\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
    const verifier = parseVerifierKey(vkey);
    expect(verifier.name).toBe(ORIGIN);
    expect(verifier.publicKey.equals(signer.publicKey)).toBe(true);
    expect(verifier.keyId.equals(signer.keyId)).toBe(true);
  });

  it('accepts an upper-case key id, as Go does', () => {
    expect(parseVerifierKey(GO_VKEY.replace('c74f20a3', 'C74F20A3')).name).toBe('PeterNeumann');
  });

  const typed = Buffer.from('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'base64');
  const withKey = (name: string, bytes: Buffer) =>
    `${name}+${keyId(name, bytes.subarray(1)).toString('hex')}+${bytes.toString('base64')}`;
  it.each([
    ['no separators', 'PeterNeumann'],
    ['one separator', 'PeterNeumann+c74f20a3'],
    ['empty name', '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['name with a space', withKey('Peter Neumann', typed)],
    ['short key id', 'PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['non-hex key id', 'PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['key id mismatch', GO_VKEY.replace('c74f20a3', 'c74f20a4')],
    ['bad base64', 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!'],
    [
      'unpadded base64',
      'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'.slice(0, -1),
    ],
    ['empty key', 'PeterNeumann+c74f20a3+'],
    ['wrong type byte', withKey('PeterNeumann', Buffer.concat([Buffer.of(2), typed.subarray(1)]))],
    ['31-byte key', withKey('PeterNeumann', typed.subarray(0, 32))],
    ['33-byte key', withKey('PeterNeumann', Buffer.concat([typed, Buffer.of(0)]))],
  ])('rejects a verifier key with %s', (_label, vkey) => {
    expectNoteError(() => parseVerifierKey(vkey), 'malformed_vkey');
  });

  it.each([
    ['', false],
    ['a', true],
    ['example.com/log', true],
    ['émoji-✓', true],
    ['with space', false],
    ['tab\there', false],
    ['nbsp\u00a0here', false],
    ['ideographic\u3000space', false],
    ['line\u2028separator', false],
    ['plus+sign', false],
    ['nul\u0000byte', false],
    ['lone\ud800surrogate', false],
  ])('validKeyName(%j) is %s', (name, valid) => {
    expect(validKeyName(name)).toBe(valid);
  });

  it('refuses to sign under an invalid name', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    expectNoteError(() => createSigner('two words', privateKey), 'invalid_key_name');
    expectNoteError(() => encodeVerifierKey('a+b', Buffer.alloc(32)), 'invalid_key_name');
  });

  it('refuses a key that is not an Ed25519 private key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed448');
    expect(() => createSigner(ORIGIN, privateKey)).toThrow(TypeError);
    expect(() => createSigner(ORIGIN, generateKeyPairSync('ed25519').publicKey)).toThrow(TypeError);
    expect(() => createSigner(ORIGIN, publicKey)).toThrow(TypeError);
  });
});

describe('checkpoints', () => {
  it('writes <origin>\\n<size>\\n<base64 root>\\n and parses it back', () => {
    const body = checkpointBody({ origin: ORIGIN, size: 1234, rootHash: ROOT });
    expect(body).toBe(`${ORIGIN}\n1234\n${ROOT.toString('base64')}\n`);
    const parsed = parseCheckpointBody(body);
    expect(parsed.origin).toBe(ORIGIN);
    expect(parsed.size).toBe(1234);
    expect(parsed.rootHash.equals(ROOT)).toBe(true);
  });

  it('writes the empty tree as size 0', () => {
    const empty = createHash('sha256').digest();
    expect(checkpointBody({ origin: ORIGIN, size: 0, rootHash: empty })).toBe(
      `${ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`,
    );
  });

  it('ignores extension lines', () => {
    const body = `${ORIGIN}\n7\n${ROOT.toString('base64')}\nextension one\nextension two\n`;
    expect(parseCheckpointBody(body).size).toBe(7);
  });

  const root64 = ROOT.toString('base64');
  it.each([
    ['no final newline', `${ORIGIN}\n7\n${root64}`],
    ['two lines', `${ORIGIN}\n7\n`],
    ['empty origin', `\n7\n${root64}\n`],
    ['empty extension line', `${ORIGIN}\n7\n${root64}\n\nextension\n`],
    ['leading zero size', `${ORIGIN}\n07\n${root64}\n`],
    ['negative size', `${ORIGIN}\n-7\n${root64}\n`],
    ['signed size', `${ORIGIN}\n+7\n${root64}\n`],
    ['hex size', `${ORIGIN}\n0x7\n${root64}\n`],
    ['size beyond 2^53', `${ORIGIN}\n9007199254740993\n${root64}\n`],
    ['unpadded root', `${ORIGIN}\n7\n${root64.replace(/=+$/, '')}\n`],
    ['url-safe root', `${ORIGIN}\n7\n${ROOT.toString('base64url')}=\n`],
    ['short root', `${ORIGIN}\n7\n${ROOT.subarray(0, 31).toString('base64')}\n`],
    ['root with whitespace', `${ORIGIN}\n7\n ${root64}\n`],
    ['carriage returns', `${ORIGIN}\r\n7\r\n${root64}\r\n`],
  ])('rejects a checkpoint with %s', (_label, body) => {
    expectNoteError(() => parseCheckpointBody(body), 'malformed_checkpoint');
  });

  it.each([
    ['an origin with a newline', { origin: 'a\nb', size: 1, rootHash: ROOT }],
    ['an empty origin', { origin: '', size: 1, rootHash: ROOT }],
    ['a fractional size', { origin: ORIGIN, size: 1.5, rootHash: ROOT }],
    ['a negative size', { origin: ORIGIN, size: -1, rootHash: ROOT }],
    ['a 31-byte root', { origin: ORIGIN, size: 1, rootHash: ROOT.subarray(1) }],
  ])('refuses to write a checkpoint with %s', (_label, checkpoint) => {
    expectNoteError(() => checkpointBody(checkpoint), 'malformed_checkpoint');
  });
});

describe('signed checkpoint notes', () => {
  const signer = newSigner(ORIGIN);
  const verifier = parseVerifierKey(encodeVerifierKey(signer.name, signer.publicKey));
  const body = checkpointBody({ origin: ORIGIN, size: 42, rootHash: ROOT });
  const note = signNote(body, signer);

  it('signs and opens a checkpoint', () => {
    expect(note.startsWith(`${body}\n\u2014 ${ORIGIN} `)).toBe(true);
    expect(note.endsWith('\n')).toBe(true);
    const opened = openNote(note, verifier);
    expect(opened).toBe(body);
    expect(parseCheckpointBody(opened).size).toBe(42);
  });

  it('signs the text including its final newline, and nothing else', () => {
    const blob = Buffer.from(note.slice(note.lastIndexOf(' ') + 1, -1), 'base64');
    expect(blob.subarray(0, 4).equals(signer.keyId)).toBe(true);
    expect(blob.subarray(4)).toHaveLength(64);
    const expected = signer.sign(Buffer.from(body, 'utf8'));
    expect(blob.subarray(4).equals(expected)).toBe(true); // Ed25519 is deterministic
  });

  it('rejects every flipped byte of the signature', () => {
    const prefixEnd = note.lastIndexOf(' ') + 1;
    const blob = Buffer.from(note.slice(prefixEnd, -1), 'base64');
    for (let index = 4; index < blob.length; index++) {
      for (const mask of [0x01, 0x80]) {
        const flipped = Buffer.from(blob);
        flipped[index] = (flipped[index] ?? 0) ^ mask;
        const tampered = `${note.slice(0, prefixEnd)}${flipped.toString('base64')}\n`;
        expectNoteError(() => openNote(tampered, verifier), 'bad_signature');
      }
    }
  });

  it('rejects a signature with a wrong key id as not signed by this key', () => {
    const prefixEnd = note.lastIndexOf(' ') + 1;
    const blob = Buffer.from(note.slice(prefixEnd, -1), 'base64');
    for (let index = 0; index < 4; index++) {
      const flipped = Buffer.from(blob);
      flipped[index] = (flipped[index] ?? 0) ^ 0x01;
      const tampered = `${note.slice(0, prefixEnd)}${flipped.toString('base64')}\n`;
      expectNoteError(() => openNote(tampered, verifier), 'unknown_key');
    }
  });

  it.each([
    ['size', checkpointBody({ origin: ORIGIN, size: 43, rootHash: ROOT })],
    ['root', checkpointBody({ origin: ORIGIN, size: 42, rootHash: Buffer.alloc(32) })],
    ['origin', checkpointBody({ origin: `${ORIGIN}x`, size: 42, rootHash: ROOT })],
    ['extension', `${body}extension\n`],
  ])('rejects the signature over an altered %s', (_label, alteredBody) => {
    const tampered = alteredBody + note.slice(body.length);
    expectNoteError(() => openNote(tampered, verifier), 'bad_signature');
  });

  it('rejects a signature by another key with the same name', () => {
    const impostor = newSigner(ORIGIN);
    expectNoteError(() => openNote(signNote(body, impostor), verifier), 'unknown_key');
  });

  it('rejects an impostor line that copies our key id', () => {
    const impostor = newSigner(ORIGIN);
    const forged = signNote(body, { ...impostor, keyId: verifier.keyId });
    expectNoteError(() => openNote(forged, verifier), 'bad_signature');
  });

  it('ignores signature lines by other keys and finds ours among them', () => {
    const witness = newSigner('witness.example/w1');
    const witnessLine = signNote(body, witness).slice(body.length + 1);
    const cosigned = note + witnessLine;
    expect(openNote(cosigned, verifier)).toBe(body);
    const witnessFirst = `${body}\n${witnessLine}${note.slice(body.length + 1)}`;
    expect(openNote(witnessFirst, verifier)).toBe(body);
  });

  it('rejects a note whose other line for our key is bad', () => {
    const ourLine = note.slice(body.length + 1);
    const blob = Buffer.from(ourLine.slice(ourLine.lastIndexOf(' ') + 1, -1), 'base64');
    blob[10] = (blob[10] ?? 0) ^ 0x01;
    const badLine = `${ourLine.slice(0, ourLine.lastIndexOf(' ') + 1)}${blob.toString('base64')}\n`;
    expectNoteError(() => openNote(`${body}\n${ourLine}${badLine}`, verifier), 'bad_signature');
  });

  it('says when the note carries no signature by this key', () => {
    const other = newSigner('someone.else');
    expectNoteError(() => openNote(signNote(body, other), verifier), 'unknown_key');
  });

  const line = note.slice(body.length + 1);
  it.each([
    ['no blank line', body + line],
    ['no signature lines', `${body}\n`],
    ['a missing final newline', note.slice(0, -1)],
    ['trailing garbage line', `${note}garbage\n`],
    ['trailing garbage without newline', `${note}garbage`],
    ['trailing blank line', `${note}\n`],
    ['a hyphen instead of an em dash', `${body}\n- ${line.slice(2)}`],
    ['no space after the dash', `${body}\n\u2014${line.slice(2)}`],
    ['a name without signature', `${body}\n\u2014 ${ORIGIN}\n`],
    ['an empty signature', `${body}\n\u2014 ${ORIGIN} \n`],
    ['a signature of 4 bytes', `${body}\n\u2014 ${ORIGIN} AAAAAA==\n`],
    ['non-base64 signature', `${note.slice(0, -3)}!=\n`],
    ['carriage returns', note.replaceAll('\n', '\r\n')],
    ['a control character', `\u0007${note}`],
    ['a lone surrogate', `\ud800${note}`],
    ['101 signature lines', body + '\n' + line.repeat(101)],
  ])('rejects a note with %s as malformed', (_label, malformed) => {
    expectNoteError(() => openNote(malformed, verifier), 'malformed_note');
  });

  it.each([
    ['empty text', ''],
    ['text without final newline', 'abc'],
    ['text with a blank line', 'a\n\nb\n'],
    ['text ending in a blank line', 'a\n\n'],
    ['text that is only a newline', '\n'],
    ['text with a carriage return', 'a\r\n'],
    ['text with a lone surrogate', '\ud800\n'],
  ])('refuses to sign %s', (_label, text) => {
    expectNoteError(() => signNote(text, signer), 'malformed_note');
  });

  it('opens spec-valid notes whose text contains a blank line (the last one splits)', () => {
    const text = 'first paragraph\n\nsecond paragraph\n';
    const message = Buffer.from(text, 'utf8');
    const blob = Buffer.concat([signer.keyId, signer.sign(message)]).toString('base64');
    expect(openNote(`${text}\n\u2014 ${ORIGIN} ${blob}\n`, verifier)).toBe(text);
  });

  it('handles non-ASCII text and names', () => {
    const unicodeSigner = newSigner('løg.example/ünïcode');
    const text = 'Ognuno sta solo sul cuor della terra\ned è subito sera.\n';
    const signed = signNote(text, unicodeSigner);
    const unicodeVerifier = parseVerifierKey(
      encodeVerifierKey(unicodeSigner.name, unicodeSigner.publicKey),
    );
    expect(openNote(signed, unicodeVerifier)).toBe(text);
  });
});
