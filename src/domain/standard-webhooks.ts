/**
 * Standard Webhooks (https://www.standardwebhooks.com, spec v1): the secret, the signed content
 * `<msg id>.<timestamp>.<body>` and the `webhook-id`, `webhook-timestamp`, `webhook-signature`
 * headers of a delivery. Pure: the caller supplies the secret's random bytes and the time.
 */
import { createHmac } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** 24 random bytes (192 bits): the spec asks for 24 to 64. */
export const SECRET_BYTES = 24;

/** `whsec_<base64>` of the given random bytes. */
export function formatSecret(random: Buffer): string {
  return SECRET_PREFIX + random.toString('base64');
}

/** The HMAC key: the base64-decoded part after `whsec_`. */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(6) : secret, 'base64');
}

/** `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`. */
export function signature(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  const mac = createHmac('sha256', secretKey(secret))
    .update(`${id}.${timestampSeconds}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

/** The headers of a delivery of `body` as message `id` at `timestampSeconds`. */
export function webhookHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signature(secret, id, timestampSeconds, body),
  };
}
