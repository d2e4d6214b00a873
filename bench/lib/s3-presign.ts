/**
 * Synchronous SigV4 presigned URLs (query-string authentication, UNSIGNED-PAYLOAD, `host` the one
 * signed header), for the bench's S3 load: autocannon asks for each request's path as it sends it.
 */
import { createHash, createHmac } from 'node:crypto';
import type { S3UnderTest } from './servers.js';

const hmac = (key: Buffer | string, text: string) =>
  createHmac('sha256', key).update(text).digest();
const escape = (text: string) =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/** The path and query of a presigned `method` on `/<bucket>/<key>`, valid for an hour. */
export function presignedPath(
  s3: S3UnderTest,
  method: string,
  bucket: string,
  key: string,
): string {
  const host = new URL(s3.url).host;
  const longDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = longDate.slice(0, 8);
  const scope = `${date}/us-east-1/s3/aws4_request`;
  const path = `/${bucket}/${key.split('/').map(escape).join('/')}`;
  const query: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${s3.accessKeyId}/${scope}`],
    ['X-Amz-Date', longDate],
    ['X-Amz-Expires', '3600'],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const canonicalQuery = query
    .map(([name, value]) => `${escape(name)}=${escape(value)}`)
    .sort()
    .join('&');
  const canonical = [
    method,
    path,
    canonicalQuery,
    `host:${host}`,
    '',
    'host',
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const toSign = [
    'AWS4-HMAC-SHA256',
    longDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const key4 = hmac(
    hmac(hmac(hmac(`AWS4${s3.secretAccessKey}`, date), 'us-east-1'), 's3'),
    'aws4_request',
  );
  return `${path}?${canonicalQuery}&X-Amz-Signature=${hmac(key4, toSign).toString('hex')}`;
}
