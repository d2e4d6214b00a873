/**
 * SigV4 verification on the S3 door against AWS's published S3 signature examples
 * (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, …-query-string-auth,
 * …-streaming): each must verify with the example secret, and fail with one character changed.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureClaims, verifySignature, type SignedRequest } from '../../../src/s3/sigv4.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = Date.parse('2013-05-24T00:00:00Z');
const CREDENTIAL = 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function headerAuth(
  method: string,
  rawPath: string,
  query: Record<string, string>,
  headers: Record<string, string>,
  signature: string,
): SignedRequest {
  const signed = Object.keys(headers).sort().join(';');
  return {
    method,
    rawPath,
    query,
    headers: {
      ...headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${CREDENTIAL},SignedHeaders=${signed},Signature=${signature}`,
    },
  };
}

async function verifies(request: SignedRequest, now = NOW) {
  const claims = signatureClaims(request, now);
  if (!claims) throw new Error('not signed');
  return verifySignature(request, claims, SECRET);
}

const EXAMPLES: [string, SignedRequest][] = [
  [
    'GET Object (Range)',
    headerAuth(
      'GET',
      '/test.txt',
      {},
      {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': EMPTY,
        'x-amz-date': '20130524T000000Z',
      },
      'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    ),
  ],
  [
    'PUT Object',
    headerAuth(
      'PUT',
      '/test%24file.text',
      {},
      {
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        host: 'examplebucket.s3.amazonaws.com',
        'x-amz-content-sha256': createHash('sha256').update('Welcome to Amazon S3.').digest('hex'),
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      },
      '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    ),
  ],
  [
    'GET Bucket lifecycle',
    headerAuth(
      'GET',
      '/',
      { lifecycle: '' },
      {
        host: 'examplebucket.s3.amazonaws.com',
        'x-amz-content-sha256': EMPTY,
        'x-amz-date': '20130524T000000Z',
      },
      'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
    ),
  ],
  [
    'GET Bucket (list objects)',
    headerAuth(
      'GET',
      '/',
      { 'max-keys': '2', prefix: 'J' },
      {
        host: 'examplebucket.s3.amazonaws.com',
        'x-amz-content-sha256': EMPTY,
        'x-amz-date': '20130524T000000Z',
      },
      '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
    ),
  ],
  [
    'presigned GET Object',
    {
      method: 'GET',
      rawPath: '/test.txt',
      query: {
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': CREDENTIAL,
        'X-Amz-Date': '20130524T000000Z',
        'X-Amz-Expires': '86400',
        'X-Amz-SignedHeaders': 'host',
        'X-Amz-Signature': 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
      },
      headers: { host: 'examplebucket.s3.amazonaws.com' },
    },
  ],
];

/** The request with the last hex digit of its signature changed. */
function tampered(request: SignedRequest): SignedRequest {
  const flip = (text: string) => text.slice(0, -1) + (text.endsWith('0') ? '1' : '0');
  const auth = request.headers['authorization'];
  if (typeof auth === 'string') {
    return { ...request, headers: { ...request.headers, authorization: flip(auth) } };
  }
  const signature = request.query['X-Amz-Signature'] ?? '';
  return { ...request, query: { ...request.query, 'X-Amz-Signature': flip(signature) } };
}

describe('SigV4 verification (AWS S3 signature examples)', () => {
  it.each(EXAMPLES)(
    'verifies %s, and refuses it with one digit changed',
    async (_name, request) => {
      await expect(verifies(request)).resolves.toBeDefined();
      await expect(verifies(tampered(request))).rejects.toMatchObject({
        code: 'SignatureDoesNotMatch',
      });
    },
  );

  it('computes the chunk signatures of the aws-chunked example', async () => {
    const request = headerAuth(
      'PUT',
      '/examplebucket/chunkObject.txt',
      {},
      {
        'content-encoding': 'aws-chunked',
        'content-length': '66824',
        host: 's3.amazonaws.com',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-date': '20130524T000000Z',
        'x-amz-decoded-content-length': '66560',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      },
      '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    );
    const signer = await verifies(request);
    const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    const first = await signer.chunk(signer.seed, sha(Buffer.alloc(65536, 'a')));
    expect(first).toBe('ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648');
    const second = await signer.chunk(first, sha(Buffer.alloc(1024, 'a')));
    expect(second).toBe('0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497');
    const last = await signer.chunk(second, EMPTY);
    expect(last).toBe('b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9');
  });

  it('refuses clock skew over 15 minutes and expired presigned URLs', async () => {
    const [, get] = EXAMPLES[0]!;
    expect(() => signatureClaims(get, NOW + 16 * 60_000)).toThrow(/too large/);
    expect(() => signatureClaims(get, NOW - 16 * 60_000)).toThrow(/too large/);
    expect(signatureClaims(get, NOW + 14 * 60_000)).not.toBeNull();
    const [, presigned] = EXAMPLES[4]!;
    expect(() => signatureClaims(presigned, NOW + 86_401_000)).toThrow(/expired/);
    const tooLong = { ...presigned, query: { ...presigned.query, 'X-Amz-Expires': '604801' } };
    expect(() => signatureClaims(tooLong, NOW)).toThrow(/7 days/);
  });
});
