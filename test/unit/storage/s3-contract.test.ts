/**
 * The S3Store contract's multipart side (SPEC §13, decision records 0044 and 0051) on every
 * metadata adapter: an upload claimed by one completion is claimed by no other, takes no part and
 * no abort until the claim is given up; a sweep leaves a fresh claim alone; a part's bytes are held
 * in its product's usage within the quota until its upload is deleted or its completion commits;
 * an upload's part sizes are summed by the store; uploads are listed in (key, creation) order from
 * a position.
 */
import { describe, expect, it } from 'vitest';
import type { MetadataStore, S3PartRecord, S3UploadRecord } from '../../../src/storage/ports.js';
import { openEachTest, SMALL_LIMITS } from '../../helpers/metadata-contract.js';
import { metadataAdapters } from '../../helpers/metadata-adapters.js';
import { audited } from '../../helpers/audit.js';
import { version } from '../../helpers/versions.js';

const adapters = await metadataAdapters();

const CREATED = '2026-12-05T10:00:00.000Z';
const ROOMY = { ...SMALL_LIMITS, productQuotaBytes: 1e9, totalMaxBytes: 1e9 };
const STORED = { stored: true, replaced: null };
const NO_UPLOAD = { stored: false, reason: 'no_upload' };

function upload(uploadId: string, fields: Partial<S3UploadRecord> = {}): S3UploadRecord {
  return {
    uploadId,
    product: 'gurukul',
    class: 'educational_content',
    name: `lessons/${uploadId}.txt`,
    principalId: 'key_1',
    contentType: 'text/plain',
    meta: {},
    createdAt: CREATED,
    claimedAt: null,
    ...fields,
  };
}

function part(uploadId: string, partNumber: number, size = 10): S3PartRecord {
  return {
    uploadId,
    partNumber,
    size,
    md5: `${partNumber}`.padStart(32, '0'),
    sha256: `${uploadId}${partNumber}`.padEnd(64, '0'),
    createdAt: CREATED,
  };
}

describe.each(adapters)('S3Store contract: $name', (adapter) => {
  let store: MetadataStore;

  openEachTest(adapter, (each) => {
    store = each.store;
  });

  it('lets one completion claim an upload; the claim refuses parts, aborts and other claims', async () => {
    await store.insertS3Upload(upload('u1'));
    expect(await store.putS3Part(part('u1', 1), 'gurukul', ROOMY)).toEqual(STORED);
    const claimed = await store.claimS3Upload('u1', '2026-12-05T10:01:00.000Z');
    expect(claimed?.map((found) => found.partNumber)).toEqual([1]);
    expect(await store.claimS3Upload('u1', '2026-12-05T10:01:01.000Z')).toBeNull();
    expect(await store.putS3Part(part('u1', 2), 'gurukul', ROOMY)).toEqual(NO_UPLOAD);
    expect(await store.deleteS3Upload('u1', true)).toBeNull();
    expect((await store.getS3Upload('u1'))?.claimedAt).toBe('2026-12-05T10:01:00.000Z');

    await store.releaseS3Upload('u1');
    expect(await store.putS3Part(part('u1', 2), 'gurukul', ROOMY)).toEqual(STORED);
    expect((await store.claimS3Upload('u1', '2026-12-05T10:02:00.000Z'))?.length).toBe(2);
    // The completion that holds the claim deletes the upload.
    expect((await store.deleteS3Upload('u1'))?.map((found) => found.partNumber)).toEqual([1, 2]);
    expect(await store.getS3Upload('u1')).toBeNull();
    expect(await store.claimS3Upload('u1', '2026-12-05T10:03:00.000Z')).toBeNull();
    expect(await store.deleteS3Upload('u1')).toBeNull();
  });

  it("holds a part's bytes in the product's usage, within the quota, until the upload goes", async () => {
    const bytes = async () => (await store.usageFacts('gurukul')).product.bytes;
    const quota = { ...SMALL_LIMITS, productQuotaBytes: 100 };
    await store.insertS3Upload(upload('q'));
    expect(await store.putS3Part(part('q', 1, 60), 'gurukul', quota)).toEqual(STORED);
    expect(await bytes()).toBe(60);
    // 60 + 50 would pass the quota: refused, nothing stored, nothing held.
    expect(await store.putS3Part(part('q', 2, 50), 'gurukul', quota)).toMatchObject({
      stored: false,
      reason: 'insufficient_storage',
      rule: 'quota_bytes',
    });
    expect(await store.listS3Parts('q')).toHaveLength(1);
    expect(await bytes()).toBe(60);
    // A part sent again holds its new size only.
    const again = await store.putS3Part(part('q', 1, 90), 'gurukul', quota);
    expect(again).toMatchObject({ stored: true, replaced: { size: 60 } });
    expect(await bytes()).toBe(90);
    expect((await store.deleteS3Upload('q'))?.length).toBe(1);
    expect(await bytes()).toBe(0);
  });

  it("sums an upload's part sizes, one part left out, a part sent again counted once", async () => {
    const others = (except: number) => store.sumS3PartSizes('sum', except);
    expect(await others(1)).toBe(0);
    await store.insertS3Upload(upload('sum'));
    expect(await others(1)).toBe(0);
    await store.putS3Part(part('sum', 1, 30), 'gurukul', ROOMY);
    await store.putS3Part(part('sum', 2, 40), 'gurukul', ROOMY);
    await store.putS3Part(part('sum', 3, 5), 'gurukul', ROOMY);
    expect(await others(4)).toBe(75);
    expect(await others(2)).toBe(35);
    await store.putS3Part(part('sum', 2, 7), 'gurukul', ROOMY);
    expect(await others(4)).toBe(42);
    await store.insertS3Upload(upload('sum-other'));
    await store.putS3Part(part('sum-other', 1, 1000), 'gurukul', ROOMY);
    expect(await others(1)).toBe(12);
  });

  it('gives the bytes of a completed upload to its version, in the commit', async () => {
    await store.insertS3Upload(upload('done'));
    await store.putS3Part(part('done', 1, 30), 'gurukul', ROOMY);
    await store.putS3Part(part('done', 2, 40), 'gurukul', ROOMY);
    await store.claimS3Upload('done', CREATED);
    const v = version({ name: 'done.json', version: 1, size: 70, storage: 'blob' });
    const result = await store.commitVersion({
      ...audited({ version: v, expectedCurrentVersion: 0, inline: null }),
      // The quota is the upload's size: its parts' bytes are not counted twice.
      limits: { ...SMALL_LIMITS, productQuotaBytes: 70 },
      s3: { completesUpload: 'done' },
    });
    expect(result).toMatchObject({ ok: true, usage: { product: { bytes: 70, artifacts: 1 } } });
    expect((await store.usageFacts('gurukul')).product.bytes).toBe(70);
    expect(await store.getS3Upload('done')).toBeNull();
    expect(await store.listS3Parts('done')).toEqual([]);
  });

  it('lists uploads by key and creation, after a key or after one upload', async () => {
    const at = (minute: number) => `2026-12-05T10:0${minute}:00.000Z`;
    await store.insertS3Upload(upload('b2', { name: 'b', createdAt: at(2) }));
    await store.insertS3Upload(upload('b1', { name: 'b', createdAt: at(1) }));
    await store.insertS3Upload(upload('a1', { name: 'a', createdAt: at(3) }));
    await store.insertS3Upload(upload('c1', { name: 'c', createdAt: at(0) }));
    const ids = (found: S3UploadRecord[]) => found.map((record) => record.uploadId);
    expect(ids(await store.listS3Uploads('gurukul', 10))).toEqual(['a1', 'b1', 'b2', 'c1']);
    expect(ids(await store.listS3Uploads('gurukul', 2))).toEqual(['a1', 'b1']);
    const key = { class: 'educational_content', name: 'b' };
    expect(ids(await store.listS3Uploads('gurukul', 10, key))).toEqual(['c1']);
    const first = { createdAt: at(1), uploadId: 'b1' };
    expect(ids(await store.listS3Uploads('gurukul', 10, { ...key, upload: first }))).toEqual([
      'b2',
      'c1',
    ]);
    expect(await store.listS3Uploads('ai_avatar', 10)).toEqual([]);
  });

  it('sweeps old uploads, but not one a completion claimed within the lifetime', async () => {
    await store.insertS3Upload(upload('old'));
    await store.insertS3Upload(upload('claimed'));
    await store.claimS3Upload('claimed', '2026-12-06T09:00:00.000Z');
    const stale = await store.staleS3Uploads('2026-12-06T08:00:00.000Z', 10);
    expect(stale.map((found) => found.uploadId)).toEqual(['old']);
    const later = await store.staleS3Uploads('2026-12-07T10:00:00.000Z', 10);
    expect(later.map((found) => found.uploadId).sort()).toEqual(['claimed', 'old']);
  });
});
