/**
 * The audit checkpoint signing key (SPEC §6, §12): an Ed25519 private key in a PEM PKCS#8 file,
 * `BUCKET_AUDIT_KEY_FILE` or `<dataDir>/audit-signing.pem`, generated with mode 0600 on first start.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { publishPrivateFile } from '../storage/private-files.js';
import { ed25519PublicKeyBytes } from './note.js';

export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

export interface LoadedSigningKey {
  readonly privateKey: KeyObject;
  /** 32 raw Ed25519 public key bytes. */
  readonly publicKey: Buffer;
  readonly created: boolean;
}

const NEXT_STEP =
  'Point BUCKET_AUDIT_KEY_FILE at an Ed25519 private key in PEM PKCS#8 ' +
  '(`openssl genpkey -algorithm ed25519`), or remove the file to have a new key generated.';

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** Never echoes the file contents or OpenSSL's detail: the file may hold other key material. */
function parseSigningKey(file: string, pem: string): KeyObject {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new SigningKeyError(
      `The audit signing key ${file} is not an unencrypted PEM private key. ${NEXT_STEP}`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyError(
      `The audit signing key ${file} is of type ${privateKey.asymmetricKeyType ?? 'unknown'}; ` +
        `audit checkpoints are signed with Ed25519. ${NEXT_STEP}`,
    );
  }
  return privateKey;
}

async function readKeyFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new SigningKeyError(
      `The audit signing key ${file} cannot be read (${errorCode(error) ?? 'error'}). ` +
        'Check the path and its permissions.',
    );
  }
}

/** Publishes a new key file (private-files.ts); false when another process won the race. */
async function publishNewKey(file: string, pem: string): Promise<boolean> {
  try {
    return await publishPrivateFile(file, pem);
  } catch (error) {
    throw new SigningKeyError(
      `The audit signing key ${file} could not be created (${errorCode(error) ?? 'error'}). ` +
        `Create it yourself and set BUCKET_AUDIT_KEY_FILE. ${NEXT_STEP}`,
    );
  }
}

function loaded(privateKey: KeyObject, created: boolean): LoadedSigningKey {
  return { privateKey, publicKey: ed25519PublicKeyBytes(privateKey), created };
}

/**
 * Loads the Ed25519 signing key from `file`. When `create` is true and the file does not exist,
 * generates one (mode 0600, atomically, never overwriting); racing creators end with one key.
 */
export async function loadSigningKey(
  file: string,
  options: { create: boolean },
): Promise<LoadedSigningKey> {
  const existing = await readKeyFile(file);
  if (existing !== undefined) return loaded(parseSigningKey(file, existing), false);
  if (!options.create) {
    throw new SigningKeyError(
      `The audit signing key ${file} does not exist. Start the server once to generate it, ` +
        'or set BUCKET_AUDIT_KEY_FILE to an existing Ed25519 private key (PEM PKCS#8).',
    );
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  try {
    if (await publishNewKey(file, pem)) return loaded(privateKey, true);
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    throw new SigningKeyError(
      `The audit signing key ${file} could not be created (${errorCode(error) ?? 'error'}). ` +
        'Check that its directory is writable, or set BUCKET_AUDIT_KEY_FILE.',
    );
  }
  const winner = await readKeyFile(file);
  if (winner === undefined) {
    throw new SigningKeyError(`The audit signing key ${file} vanished while it was being created.`);
  }
  return loaded(parseSigningKey(file, winner), false);
}
