/**
 * The installation's key-encryption key (SPEC §8, §12): 32 random bytes in `<dataDir>/master.key`
 * or `BUCKET_MASTER_KEY_FILE`, created 0600 at first start (atomically, never overwriting). Secrets
 * the Bucket must be able to read back (webhook secrets, subject keys, S3 secrets) are stored
 * wrapped by it: AES-256-GCM, a random 96-bit nonce per wrap, and associated data naming what is
 * wrapped (`webhook-secret:<id>`), so a wrapped value moved to another row does not unwrap.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { publishPrivateFile } from './private-files.js';

export const MASTER_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** The format of a wrapped value; a later key rotation can introduce another. */
const WRAP_PREFIX = 'kek1:';
/** The database setting holding the fingerprint of the key the installation was created with. */
export const MASTER_KEY_SETTING = 'master_key_fingerprint';

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

/** A wrapped value that does not unwrap: altered, moved, or wrapped by another key. */
export class UnwrapError extends Error {
  constructor(context: string) {
    super(`the wrapped ${context} does not unwrap with this installation's key-encryption key`);
    this.name = 'UnwrapError';
  }
}

export class MasterKey {
  /** Names the key without revealing it: recorded in the database at first start. */
  readonly fingerprint: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== MASTER_KEY_BYTES) throw new Error('a master key is 32 bytes');
    this.fingerprint = createHash('sha256')
      .update('bhiv-bucket key-encryption key fingerprint\n')
      .update(key)
      .digest('hex')
      .slice(0, 32);
  }

  /** `kek1:<base64(nonce ‖ ciphertext ‖ tag)>`, bound to `context` (its associated data). */
  wrap(plaintext: Buffer, context: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return WRAP_PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
  }

  /** The plaintext of `wrapped`; throws UnwrapError when it was altered or wrapped elsewhere. */
  unwrap(wrapped: string, context: string): Buffer {
    if (!wrapped.startsWith(WRAP_PREFIX)) throw new UnwrapError(context);
    const bytes = Buffer.from(wrapped.slice(WRAP_PREFIX.length), 'base64');
    if (bytes.length < NONCE_BYTES + TAG_BYTES) throw new UnwrapError(context);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const body = bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new UnwrapError(context);
    }
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new MasterKeyError(
      `The key-encryption key ${file} cannot be read (${errorCode(error)}). ` +
        'Check the path (BUCKET_MASTER_KEY_FILE) and its permissions.',
    );
  }
  if (bytes.length !== MASTER_KEY_BYTES) {
    // Never echoes the contents: the file may hold other key material.
    throw new MasterKeyError(
      `The key-encryption key ${file} holds ${bytes.length} bytes, not ${MASTER_KEY_BYTES} ` +
        'random bytes. Restore the file from your backup (docs/OPERATIONS.md).',
    );
  }
  return bytes;
}

/** The key-encryption key in `file`, or undefined when there is none (never creates one). */
export async function readMasterKey(file: string): Promise<MasterKey | undefined> {
  const bytes = await readKeyFile(file);
  return bytes ? new MasterKey(bytes) : undefined;
}

/**
 * Loads the key-encryption key from `file`, creating it (32 random bytes, 0600, atomically) when
 * it does not exist; racing creators end with one key.
 */
export async function loadMasterKey(file: string): Promise<MasterKey> {
  const existing = await readKeyFile(file);
  if (existing) return new MasterKey(existing);
  try {
    await publishPrivateFile(file, randomBytes(MASTER_KEY_BYTES));
  } catch (error) {
    throw new MasterKeyError(
      `The key-encryption key ${file} could not be created (${errorCode(error)}). Check that ` +
        'its directory is writable, or set BUCKET_MASTER_KEY_FILE.',
    );
  }
  const published = await readKeyFile(file);
  if (!published) throw new MasterKeyError(`The key-encryption key ${file} vanished.`);
  return new MasterKey(published);
}

/**
 * Records the key's fingerprint at the installation's first start; refuses to go on with another
 * key (a node given the wrong file would store secrets no other node can read, and read none).
 */
export async function checkMasterKey(
  key: MasterKey,
  file: string,
  settings: { setSettingOnce(key: string, value: string): Promise<string> },
): Promise<void> {
  const recorded = await settings.setSettingOnce(MASTER_KEY_SETTING, key.fingerprint);
  if (recorded !== key.fingerprint) {
    throw new MasterKeyError(
      `The key-encryption key ${file} (fingerprint ${key.fingerprint}) is not the one this ` +
        `Bucket's database was created with (fingerprint ${recorded}). Give every node the same ` +
        'BUCKET_MASTER_KEY_FILE, or restore the original file from your backup; the secrets ' +
        'stored so far cannot be read with another key.',
    );
  }
}
