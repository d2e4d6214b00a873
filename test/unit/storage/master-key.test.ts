/**
 * The key-encryption key (SPEC §8, §12): created 0600 at first start and reused after, a Bucket
 * given another key refuses to start, and a wrapped value that was altered, moved to another
 * context or wrapped by another key does not unwrap.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBucket } from '../../../src/bucket.js';
import { configFromEnv } from '../../../src/config.js';
import {
  loadMasterKey,
  MasterKey,
  MasterKeyError,
  UnwrapError,
} from '../../../src/storage/master-key.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bucket-master-key-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the master key file', () => {
  it('is created with 32 random bytes, mode 0600, and nothing left beside it', async () => {
    const file = join(dir, 'keys', 'master.key');
    const key = await loadMasterKey(file);
    const bytes = await readFile(file);
    expect(bytes).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'keys'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, 'keys'))).toEqual(['master.key']);
    expect(key.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is reused on the next start, and racing creators end with one key', async () => {
    const file = join(dir, 'master.key');
    const keys = await Promise.all([loadMasterKey(file), loadMasterKey(file), loadMasterKey(file)]);
    expect(new Set(keys.map((key) => key.fingerprint)).size).toBe(1);
    const again = await loadMasterKey(file);
    expect(again.fingerprint).toBe(keys[0]?.fingerprint);
    const wrapped = keys[0]?.wrap(Buffer.from('secret'), 'webhook-secret:wh_1') ?? '';
    expect(again.unwrap(wrapped, 'webhook-secret:wh_1').toString()).toBe('secret');
  });

  it('refuses a file that is not 32 bytes, without echoing it', async () => {
    const file = join(dir, 'master.key');
    await writeFile(file, 'not-a-key-but-some-secret-text\n', { mode: 0o600 });
    const error = await loadMasterKey(file).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(MasterKeyError);
    expect((error as Error).message).toMatch(/32 random bytes/);
    expect((error as Error).message).not.toContain('some-secret');
  });
});

describe('a Bucket and its master key', () => {
  const config = (env: Record<string, string> = {}) =>
    configFromEnv({ BUCKET_DATA_DIR: join(dir, 'data'), BUCKET_LOG_LEVEL: 'silent', ...env });

  it('creates <dataDir>/master.key at first start and refuses to start with another key', async () => {
    const first = await createBucket(config());
    await first.close();
    const original = await readFile(join(dir, 'data', 'master.key'));
    expect((await stat(join(dir, 'data', 'master.key'))).mode & 0o777).toBe(0o600);

    const other = join(dir, 'other.key');
    await writeFile(other, randomBytes(32), { mode: 0o600 });
    const refused = await createBucket(config({ BUCKET_MASTER_KEY_FILE: other })).catch(
      (thrown: unknown) => thrown,
    );
    expect(refused).toBeInstanceOf(MasterKeyError);
    expect((refused as Error).message).toMatch(/not the one this Bucket's database was created/);
    expect((refused as Error).message).toMatch(/BUCKET_MASTER_KEY_FILE/);

    // The original key still opens it; a configured path that is missing is created.
    const again = await createBucket(config());
    await again.close();
    expect(await readFile(join(dir, 'data', 'master.key'))).toEqual(original);
    const fresh = join(dir, 'fresh', 'kek');
    const elsewhere = await createBucket(
      configFromEnv({
        BUCKET_DATA_DIR: join(dir, 'data2'),
        BUCKET_MASTER_KEY_FILE: fresh,
      }),
    );
    await elsewhere.close();
    expect((await stat(fresh)).mode & 0o777).toBe(0o600);
  });
});

describe('wrapping', () => {
  const key = new MasterKey(randomBytes(32));
  const context = 'webhook-secret:wh_0123';

  it('round-trips, with a fresh nonce every time', () => {
    const secret = Buffer.from('whsec_abc');
    const one = key.wrap(secret, context);
    const two = key.wrap(secret, context);
    expect(one).not.toBe(two);
    expect(one).not.toContain(secret.toString('base64'));
    expect(key.unwrap(one, context)).toEqual(secret);
  });

  it('detects tampering, another context and another key', () => {
    const wrapped = key.wrap(Buffer.from('whsec_abc'), context);
    const bytes = Buffer.from(wrapped.slice('kek1:'.length), 'base64');
    for (const index of [0, 12, bytes.length - 1]) {
      const altered = Buffer.from(bytes);
      altered[index] = (altered[index] ?? 0) ^ 1;
      expect(() => key.unwrap('kek1:' + altered.toString('base64'), context)).toThrow(UnwrapError);
    }
    expect(() => key.unwrap(wrapped.slice(0, -8), context)).toThrow(UnwrapError);
    expect(() => key.unwrap(wrapped, 'webhook-secret:wh_other')).toThrow(UnwrapError);
    expect(() => new MasterKey(randomBytes(32)).unwrap(wrapped, context)).toThrow(UnwrapError);
    expect(() => key.unwrap('plain text', context)).toThrow(UnwrapError);
  });
});
