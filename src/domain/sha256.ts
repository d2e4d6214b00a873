/** SHA-256 digests as the Bucket writes and checks them: 64 lower-case hex digits. */

/** A SHA-256 digest in lower-case hex (content addresses, leaf and root hashes, claims). */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** SHA-256 of zero bytes: the recorded digest of a tombstone. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
