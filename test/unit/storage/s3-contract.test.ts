/**
 * The S3Store contract's multipart side (SPEC §13, decision records 0044 and 0051) on every
 * metadata adapter: an upload claimed by one completion is claimed by no other, takes no part and
 * no abort until the claim is given up; a sweep leaves a fresh claim alone; uploads are listed in
 * (key, creation) order from a position.
 */
import { describe, expect, it } from 'vitest';
import type { MetadataStore, S3PartRecord, S3UploadRecord } from '../../../src/storage/ports.js';
import { openEachTest } from '../../helpers/metadata-contract.js';
import { metadataAdapters } from '../../helpers/metadata-adapters.js';

const adapters = await metadataAdapters();

const CREATED = '2026-12-05T10:00:00.000Z';

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
    expect(await store.putS3Part(part('u1', 1))).toBeNull();
    const claimed = await store.claimS3Upload('u1', '2026-12-05T10:01:00.000Z');
    expect(claimed?.map((found) => found.partNumber)).toEqual([1]);
    expect(await store.claimS3Upload('u1', '2026-12-05T10:01:01.000Z')).toBeNull();
    expect(await store.putS3Part(part('u1', 2))).toBe('no_upload');
    expect(await store.deleteS3Upload('u1', true)).toBeNull();
    expect((await store.getS3Upload('u1'))?.claimedAt).toBe('2026-12-05T10:01:00.000Z');

    await store.releaseS3Upload('u1');
    expect(await store.putS3Part(part('u1', 2))).toBeNull();
    expect((await store.claimS3Upload('u1', '2026-12-05T10:02:00.000Z'))?.length).toBe(2);
    // The completion that holds the claim deletes the upload.
    expect((await store.deleteS3Upload('u1'))?.map((found) => found.partNumber)).toEqual([1, 2]);
    expect(await store.getS3Upload('u1')).toBeNull();
    expect(await store.claimS3Upload('u1', '2026-12-05T10:03:00.000Z')).toBeNull();
    expect(await store.deleteS3Upload('u1')).toBeNull();
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
