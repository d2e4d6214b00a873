import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSigner, openNote, signNote } from '../../../src/audit/note.js';
import { loadSigningKey, SigningKeyError } from '../../../src/audit/signing-key.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bucket-signing-key-'));
  file = join(dir, 'audit-signing.pem');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectSigningKeyError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SigningKeyError);
  expect((error as Error).message).toMatch(pattern);
}

describe('loadSigningKey', () => {
  it('generates an Ed25519 PKCS#8 PEM key with mode 0600', async () => {
    const key = await loadSigningKey(file, { create: true });
    expect(key.created).toBe(true);
    expect(key.privateKey.asymmetricKeyType).toBe('ed25519');
    expect(key.publicKey).toHaveLength(32);
    const pem = await readFile(file, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
    if (process.platform !== 'win32') {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    }
    expect(await readdir(dir)).toEqual(['audit-signing.pem']);
  });

  it('reloads the same key without creating another', async () => {
    const first = await loadSigningKey(file, { create: true });
    const second = await loadSigningKey(file, { create: true });
    const third = await loadSigningKey(file, { create: false });
    expect(second.created).toBe(false);
    expect(third.created).toBe(false);
    expect(second.publicKey.equals(first.publicKey)).toBe(true);
    expect(third.publicKey.equals(first.publicKey)).toBe(true);
    // The reloaded private key signs notes the first key's verifier accepts.
    const note = signNote('checkpoint\n', createSigner('origin', third.privateKey));
    expect(openNote(note, createSigner('origin', first.privateKey))).toBe('checkpoint\n');
  });

  it('creates missing parent directories', async () => {
    const nested = join(dir, 'a', 'b', 'audit-signing.pem');
    expect((await loadSigningKey(nested, { create: true })).created).toBe(true);
  });

  it('loads an existing key supplied by the operator', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFile(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const key = await loadSigningKey(file, { create: false });
    expect(key.created).toBe(false);
    expect(key.publicKey.equals(createSigner('x', privateKey).publicKey)).toBe(true);
  });

  it('throws when the file is missing and create is false', async () => {
    await expectSigningKeyError(loadSigningKey(file, { create: false }), /does not exist/);
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    [
      'an RSA key',
      () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      /type rsa/,
    ],
    ['an Ed448 key', () => generateKeyPairSync('ed448').privateKey, /type ed448/],
    ['an EC key', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, /type ec/],
  ])('refuses %s with a clear message', async (_label, makeKey, pattern) => {
    await writeFile(file, makeKey().export({ format: 'pem', type: 'pkcs8' }));
    await expectSigningKeyError(loadSigningKey(file, { create: true }), pattern);
    await expectSigningKeyError(loadSigningKey(file, { create: true }), /Ed25519/);
  });

  it('refuses garbage, a public key and an encrypted key without echoing them', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const samples = [
      'not a key at all',
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      privateKey
        .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'secret' })
        .toString(),
    ];
    for (const sample of samples) {
      await writeFile(file, sample);
      await expectSigningKeyError(
        loadSigningKey(file, { create: true }),
        /not an unencrypted PEM private key/,
      );
      const error = await loadSigningKey(file, { create: true }).catch((thrown: Error) => thrown);
      expect(String(error)).not.toContain(sample.split('\n')[1] ?? sample);
    }
    // The bad file is left alone, never replaced by a generated key.
    expect(await readFile(file, 'utf8')).toBe(samples[samples.length - 1]);
  });

  it('reports an unreadable path', async () => {
    await mkdir(file);
    await expectSigningKeyError(loadSigningKey(file, { create: true }), /cannot be read/);
  });

  it('ends concurrent creators with one key that all of them return', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => loadSigningKey(file, { create: true })),
    );
    expect(results.filter((result) => result.created)).toHaveLength(1);
    for (const result of results) {
      expect(result.publicKey.equals(results[0]!.publicKey)).toBe(true);
    }
    const onDisk = await loadSigningKey(file, { create: false });
    expect(onDisk.publicKey.equals(results[0]!.publicKey)).toBe(true);
    expect(await readdir(dir)).toEqual(['audit-signing.pem']);
  });

  it('ends racing processes with one key that all of them return', async () => {
    const modulePath = fileURLToPath(new URL('../../../src/audit/signing-key.ts', import.meta.url));
    const script =
      `const { loadSigningKey } = await import(${JSON.stringify(modulePath)});` +
      'const key = await loadSigningKey(process.argv[1], { create: true });' +
      "console.log(JSON.stringify({ created: key.created, publicKey: key.publicKey.toString('hex') }));";
    const run = promisify(execFile);
    const outputs = await Promise.all(
      Array.from({ length: 3 }, () =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file]),
      ),
    );
    const results = outputs.map(
      ({ stdout }) => JSON.parse(stdout) as { created: boolean; publicKey: string },
    );
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const onDisk = await loadSigningKey(file, { create: false });
    for (const result of results) expect(result.publicKey).toBe(onDisk.publicKey.toString('hex'));
    expect(await readdir(dir)).toEqual(['audit-signing.pem']);
  });
});
