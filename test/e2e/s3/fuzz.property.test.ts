/**
 * The S3 door under hostile requests (SPEC §13): a bounded fast-check run sends correctly signed
 * but malformed requests (and some signed badly or not at all) — garbage and huge query
 * parameters, keys without a class or with `..` and NUL, malformed, huge and DOCTYPE-laden XML,
 * broken aws-chunked bodies, digests, ranges and preconditions that mean nothing. Every refusal is
 * an S3 XML error with a 4xx (or a documented 501/503/507) and changes nothing — no object,
 * upload, part, blob file or temporary appears or goes — and the door answers every request
 * (none hangs) and stays healthy. FUZZ_RUNS raises the number of runs, FUZZ_SEED replays one,
 * FUZZ_STATS=<file> notes what each request reached (to see which operations a run tests).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_OBJECT, FUZZ_PRODUCT } from '../../helpers/s3-fuzz-arbitraries.js';
import { fuzzRequestArb, uploadStepArb } from '../../helpers/s3-fuzz-requests.js';
import {
  abbreviated,
  brokenPromise,
  noteReached,
  doorState,
  sendFuzz,
  unreferencedBlobs,
  type FuzzRequest,
} from '../../helpers/s3-fuzz.js';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { sendSigned } from '../../helpers/s3-sign.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 150);
const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);

/** A JSON object cut in two: neither part alone is one, and both are under 5 MiB. */
const PARTS = ['{"fuzz":', '"parts"}'];

describe('the S3 door under hostile requests', () => {
  let server: InProcessTestServer;
  let base: string;
  let avatar: S3Principal;
  /** The open upload the multipart requests aim at; replaced when one completes or aborts it. */
  const fixture = { key: '', uploadId: '', etags: [] as string[], fresh: '' };
  let runs = 0;
  let uploads = 0;

  const signed = (request: Parameters<typeof sendSigned>[2]) =>
    sendSigned(base, avatar.credential, request);

  /** Opens a new fixture upload with two small parts unless the current one is still open. */
  async function ensureUpload(): Promise<void> {
    const open = fixture.uploadId
      ? await server.bucket.metadata.getS3Upload(fixture.uploadId)
      : null;
    // A step answered leaves no claim behind: only a completion in flight holds one.
    expect(open?.claimedAt ?? null, 'a claim left on the upload').toBeNull();
    if (open) {
      // The fuzz's own UploadParts replace the fixture's parts: their ETags as they are now.
      const parts = await server.bucket.metadata.listS3Parts(open.uploadId);
      fixture.etags = [1, 2, 3].map((n) => parts.find((part) => part.partNumber === n)?.md5 ?? '');
      return;
    }
    fixture.key = `avatar_config/fuzz/upload-${++uploads}.json`;
    const created = await signed({
      method: 'POST',
      path: `/${FUZZ_PRODUCT}/${fixture.key}`,
      query: { uploads: '' },
      headers: { 'content-type': 'application/json' },
    });
    fixture.uploadId = /<UploadId>([0-9a-f]+)<\/UploadId>/.exec(created.text)?.[1] ?? '';
    expect(fixture.uploadId, created.text).not.toBe('');
    for (const [index, part] of PARTS.entries()) {
      const sent = await signed({
        method: 'PUT',
        path: `/${FUZZ_PRODUCT}/${fixture.key}`,
        query: { partNumber: String(index + 1), uploadId: fixture.uploadId },
        body: Buffer.from(part),
      });
      expect(sent.status, sent.text).toBe(200);
    }
    fixture.etags = PARTS.map((part) => createHash('md5').update(part).digest('hex'));
  }

  async function reinstate(): Promise<void> {
    const owner = client(server.url, server.ownerKey);
    const answer = await owner('POST', `/v1/keys/${avatar.key.id}/reinstate`);
    expect(answer.status).toBe(200);
  }

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    base = server.s3Url ?? '';
    avatar = await s3Principal(server, 'product', FUZZ_PRODUCT);
    const put = await signed({
      method: 'PUT',
      path: `/${FUZZ_PRODUCT}/${FUZZ_OBJECT}`,
      body: Buffer.from('the object every read of the fuzz aims at'),
    });
    expect(put.status, put.text).toBe(200);
  });
  afterAll(async () => server?.dispose());

  const describeRequest = (fuzz: FuzzRequest) => abbreviated(JSON.stringify(fuzz), 1500);

  /** `runs` runs from FUZZ_SEED; the seed first, the counterexample squeezed (bodies run to 1 MB). */
  const runOptions = (runs: number): fc.Parameters<[unknown]> => ({
    numRuns: runs,
    ...(SEED === undefined ? {} : { seed: SEED }),
    endOnFailure: true,
    asyncReporter: async (details) => {
      if (!details.failed) return;
      const report = fc.defaultReportMessage(details) ?? '';
      const cause = details.errorInstance instanceof Error ? details.errorInstance.message : '';
      throw new Error(`${abbreviated(report, 3000)}\n${abbreviated(cause, 3000)}`);
    },
  });

  /**
   * No temporaries or unreferenced blobs; ListMultipartUploads tells what the store holds; and of
   * every upload (or `only` that one): not left claimed, every part's blob there, ListParts true.
   */
  async function expectUploadsTrue(only?: string): Promise<void> {
    const state = await doorState(server, [FUZZ_PRODUCT]);
    expect(state['temporaries']).toEqual([]);
    expect(await unreferencedBlobs(server)).toEqual([]);
    const stored = await server.bucket.metadata.listS3Uploads(FUZZ_PRODUCT, 1000);
    const listed = await signed({
      method: 'GET',
      path: `/${FUZZ_PRODUCT}`,
      query: { uploads: '' },
    });
    const ids = [...listed.text.matchAll(/<UploadId>([0-9a-f]+)<\/UploadId>/g)].map((m) => m[1]);
    expect(ids.sort()).toEqual(stored.map((upload) => upload.uploadId).sort());
    for (const upload of stored.filter((each) => only === undefined || each.uploadId === only)) {
      expect(upload.claimedAt, 'a claim left on an upload').toBeNull();
      const parts = await signed({
        method: 'GET',
        path: `/${FUZZ_PRODUCT}/${upload.class}/${upload.name}`,
        query: { uploadId: upload.uploadId },
      });
      const listedParts = [
        ...parts.text.matchAll(/<PartNumber>(\d+)<\/PartNumber>.*?<ETag>&quot;([0-9a-f]+)&quot;/g),
      ].map((m) => `${m[1]} ${m[2]}`);
      const records = await server.bucket.metadata.listS3Parts(upload.uploadId);
      expect(listedParts).toEqual(records.map((part) => `${part.partNumber} ${part.md5}`));
      for (const part of records) {
        expect(await server.bucket.blobs.exists(part.sha256), 'a part without its blob').toBe(true);
      }
    }
  }

  it('answers every hostile request with an S3 error that changed nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzRequestArb, async (fuzz) => {
        await ensureUpload();
        fixture.fresh = `fresh-${++runs}.ckpt`;
        const before = await doorState(server, [FUZZ_PRODUCT]);
        const answer = await sendFuzz(base, avatar.credential, fuzz, fixture);
        const broken = brokenPromise(answer, fuzz.method);
        await noteReached(fuzz, answer);
        const said = `${describeRequest(fuzz)} → ${answer.status} ${abbreviated(answer.text, 500)}`;
        expect(broken, said).toBeNull();
        // Hostile names are threats (SPEC §5): a key found out is suspended; the fuzz goes on.
        if (answer.status === 403 && /suspended|^$/.test(answer.text)) await reinstate();
        if (answer.status >= 400) {
          const after = await doorState(server, [FUZZ_PRODUCT]);
          expect(after, `${describeRequest(fuzz)} → ${answer.status}`).toEqual(before);
        }
      }),
      runOptions(RUNS),
    );
  });

  it('keeps an upload consistent under hostile steps sent at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(uploadStepArb, { minLength: 2, maxLength: 4 }), async (steps) => {
        await ensureUpload();
        const answers = await Promise.all(
          steps.map((step) => sendFuzz(base, avatar.credential, step, fixture)),
        );
        for (const [index, answer] of answers.entries()) {
          const step = steps[index] as FuzzRequest;
          const said = `${describeRequest(step)} → ${answer.status} ${abbreviated(answer.text, 500)}`;
          expect(brokenPromise(answer, step.method), said).toBeNull();
        }
        if (answers.some((answer) => answer.status === 403)) await reinstate();
        await expectUploadsTrue(fixture.uploadId);
      }),
      runOptions(Math.ceil(RUNS / 5)),
    );
  });

  it('stays healthy, keeps no temporaries or unreferenced blobs, and lists uploads truly', async () => {
    await reinstate();
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const content = Buffer.from('written after the fuzz');
    const put = await signed({
      method: 'PUT',
      path: `/${FUZZ_PRODUCT}/model_checkpoint/fuzz/after.ckpt`,
      body: content,
    });
    expect(put.status, put.text).toBe(200);
    const get = await signed({
      method: 'GET',
      path: `/${FUZZ_PRODUCT}/model_checkpoint/fuzz/after.ckpt`,
    });
    expect(get.text).toBe(content.toString());
    await expectUploadsTrue();
  });
});
