/**
 * Whole hostile S3 requests (SPEC §13) for test/e2e/s3/fuzz.property.test.ts, one arbitrary per
 * kind of operation: listings, reads, writes (plain and aws-chunked), the multipart steps,
 * DeleteObjects, CopyObject, and noise — built from s3-fuzz-arbitraries.ts and s3-fuzz-bodies.ts.
 */
import fc from 'fast-check';
import type { FuzzRequest } from './s3-fuzz.js';
import {
  CONDITIONS,
  DIGESTS,
  FUZZ_OBJECT,
  FUZZ_PRODUCT,
  headerJunk,
  headersArb,
  junk,
  keyArb,
  paramsArb,
  pathArb,
  RANGES,
  signingArb,
} from './s3-fuzz-arbitraries.js';
import { chunkedArb, completionXml, deleteXml } from './s3-fuzz-bodies.js';

const request = (fields: Partial<FuzzRequest> & Pick<FuzzRequest, 'method' | 'path'>) =>
  ({ query: {}, headers: {}, signing: 'good', ...fields }) as FuzzRequest;

const LIST_PARAMS = [
  'list-type',
  'max-keys',
  'continuation-token',
  'start-after',
  'prefix',
  'delimiter',
  'marker',
  'encoding-type',
  'fetch-owner',
];

const PRESIGN_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Content-Sha256',
  'AWSAccessKeyId',
];

/** The hostile requests, one arbitrary per kind of operation. */
export const fuzzRequestArb: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.oneof(
      paramsArb(LIST_PARAMS).map((query) =>
        request({ method: 'GET', path: `/${FUZZ_PRODUCT}`, query: { 'list-type': '2', ...query } }),
      ),
      paramsArb(LIST_PARAMS).map((query) =>
        request({ method: 'GET', path: `/${FUZZ_PRODUCT}`, query }),
      ),
      paramsArb(['prefix', 'delimiter', 'key-marker', 'version-id-marker', 'max-keys']).map(
        (query) =>
          request({ method: 'GET', path: `/${FUZZ_PRODUCT}`, query: { versions: '', ...query } }),
      ),
      paramsArb(['prefix', 'delimiter', 'key-marker', 'upload-id-marker', 'max-uploads']).map(
        (query) =>
          request({ method: 'GET', path: `/${FUZZ_PRODUCT}`, query: { uploads: '', ...query } }),
      ),
      fc
        .tuple(
          fc.constantFrom('GET', 'HEAD'),
          fc.oneof(fc.constant(`/${FUZZ_PRODUCT}/${FUZZ_OBJECT}`), pathArb),
          paramsArb([
            'versionId',
            'partNumber',
            'retention',
            'legal-hold',
            'response-content-type',
          ]),
          headersArb(CONDITIONS),
          fc.option(RANGES, { nil: undefined }),
        )
        .map(([method, path, query, headers, range]) =>
          request({ method, path, query, headers: range ? { ...headers, range } : headers }),
        ),
      fc
        .tuple(pathArb, headersArb(DIGESTS), fc.string({ maxLength: 64 }), paramsArb(['versionId']))
        .map(([path, headers, body, query]) =>
          request({ method: 'PUT', path, headers, body, query }),
        ),
      fc
        .tuple(
          fc.oneof(fc.constant(`/${FUZZ_PRODUCT}/model_checkpoint/fuzz/@fresh`), pathArb),
          chunkedArb,
          headersArb(DIGESTS),
        )
        .map(([path, chunked, headers]) => request({ method: 'PUT', path, chunked, headers })),
      fc
        .tuple(
          fc.option(chunkedArb, { nil: undefined }),
          paramsArb(['partNumber', 'uploadId']),
          fc.constantFrom('fixture', 'fixture with junk', 'junk'),
          fc.string({ maxLength: 64 }),
          headersArb(DIGESTS),
          fc.constantFrom('1', '2', '3'),
        )
        .map(([chunked, junkQuery, which, body, headers, partNumber]) =>
          request({
            method: 'PUT',
            path: `/${FUZZ_PRODUCT}/@key`,
            query:
              which === 'junk'
                ? junkQuery
                : which === 'fixture'
                  ? { partNumber, uploadId: '@upload' }
                  : { partNumber, uploadId: '@upload', ...junkQuery },
            headers,
            ...(chunked ? { chunked } : { body }),
          }),
        ),
      fc
        .tuple(completionXml, paramsArb(['uploadId']), fc.boolean(), headersArb(DIGESTS))
        .map(([body, query, fixture, headers]) =>
          request({
            method: 'POST',
            path: `/${FUZZ_PRODUCT}/@key`,
            query: fixture ? { uploadId: '@upload' } : query,
            body,
            headers,
          }),
        ),
      fc
        .tuple(
          fc.constantFrom('GET', 'DELETE'),
          paramsArb(['uploadId', 'max-parts', 'part-number-marker']),
        )
        .map(([method, query]) =>
          request({
            method,
            path: `/${FUZZ_PRODUCT}/@key`,
            query: { uploadId: '@upload', ...query },
          }),
        ),
      fc.tuple(deleteXml, headersArb(DIGESTS)).map(([body, headers]) =>
        request({
          method: 'POST',
          path: `/${FUZZ_PRODUCT}`,
          query: { delete: '' },
          body,
          headers,
        }),
      ),
      fc
        .tuple(
          pathArb,
          fc.oneof(
            keyArb.map((key) => `/${FUZZ_PRODUCT}/${key}`),
            headerJunk,
          ),
        )
        .map(([path, source]) =>
          request({
            method: 'PUT',
            path,
            headers: { 'x-amz-copy-source': source.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?') },
          }),
        ),
      fc
        .tuple(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD'), pathArb, junk, junk)
        .map(([method, path, name, value]) =>
          request({
            method,
            path,
            query: name === '' ? {} : { [name.slice(0, 100)]: value },
          }),
        ),
      fc
        .tuple(
          pathArb,
          fc.constantFrom('%', '%ZZ', 'a=%E0%A4%A', 'list-type=%FF', '=&=&&', '%00=%00'),
        )
        .map(([path, rawQuery]) => request({ method: 'GET', path, rawQuery, signing: 'none' })),
      fc
        .tuple(
          fc.oneof(fc.constant(`/${FUZZ_PRODUCT}/model_checkpoint/fuzz/@fresh`), pathArb),
          headersArb(DIGESTS),
        )
        .map(([path, headers]) =>
          request({ method: 'POST', path, query: { uploads: '' }, headers }),
        ),
      fc
        .tuple(pathArb, headerJunk, fc.constantFrom('PUT', 'POST', 'GET'))
        .map(([path, payload, method]) => request({ method, path, payload, body: 'x' })),
      // Presigned-URL parameters and Authorization headers that mean nothing.
      paramsArb(PRESIGN_PARAMS).map((query) =>
        request({
          method: 'GET',
          path: `/${FUZZ_PRODUCT}/${FUZZ_OBJECT}`,
          query: { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', ...query },
          signing: 'none',
        }),
      ),
      fc
        .tuple(headerJunk, headerJunk, fc.oneof(headerJunk, fc.stringMatching(/^[0-9a-f]{64}$/)))
        .map(([credential, signed, signature]) =>
          request({
            method: 'GET',
            path: `/${FUZZ_PRODUCT}`,
            headers: {
              authorization: `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signed}, Signature=${signature}`,
              'x-amz-date': new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''),
            },
            signing: 'none',
          }),
        ),
    ),
    signingArb,
  )
  .map(([fuzz, signing]) => (fuzz.signing === 'good' ? { ...fuzz, signing } : fuzz));

/** Steps of the fixture upload (parts, completions, aborts, listings), to send several at once. */
export const uploadStepArb: fc.Arbitrary<FuzzRequest> = fuzzRequestArb.filter(
  (fuzz) => fuzz.query['uploadId'] === '@upload' && fuzz.path === `/${FUZZ_PRODUCT}/@key`,
);
