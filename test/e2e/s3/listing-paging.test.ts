/**
 * S3's paged listings of versions and uploads (SPEC §13) with the AWS SDK for JavaScript v3:
 * ListObjectVersions pages by key-marker and version-id-marker (newest first per key, tombstoned
 * objects with their delete markers), ListMultipartUploads by key-marker and upload-id-marker;
 * following the Next* markers lists every item once.
 */
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type ListObjectVersionsCommandInput,
  type ListObjectVersionsCommandOutput,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { startTestServer, type InProcessTestServer } from '../../helpers/server.js';

/** A listing's items as `<key>@<version>` (a delete marker `<key>@<version>×`), latest marked `*`. */
function itemsOf(page: ListObjectVersionsCommandOutput): string[] {
  const items = [
    ...(page.Versions ?? []).map((v) => ({ ...v, marker: false })),
    ...(page.DeleteMarkers ?? []).map((v) => ({ ...v, marker: true })),
  ];
  return items
    .sort((a, b) =>
      a.Key === b.Key ? Number(b.VersionId) - Number(a.VersionId) : a.Key! < b.Key! ? -1 : 1,
    )
    .map((v) => `${v.Key}@${v.VersionId}${v.marker ? '×' : ''}${v.IsLatest ? '*' : ''}`);
}

describe('S3 paged listings of versions and uploads', () => {
  let server: InProcessTestServer;
  let gurukul: S3Principal;
  let core: S3Principal;

  // basket_config: a class whose objects may be updated and deleted (SPEC §2.2).
  const put = (key: string, value: number) =>
    core.s3.send(
      new PutObjectCommand({
        Bucket: 'core',
        Key: key,
        Body: JSON.stringify({ value }),
        ContentType: 'application/json',
      }),
    );

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    gurukul = await s3Principal(server, 'product', 'gurukul');
    core = await s3Principal(server, 'core');
    for (let version = 1; version <= 3; version++) await put('basket_config/v/a.json', version);
    await put('basket_config/v/b.json', 1);
    await put('basket_config/v/c.json', 1);
    await put('basket_config/v/c.json', 2);
    await core.s3.send(new DeleteObjectCommand({ Bucket: 'core', Key: 'basket_config/v/c.json' }));
  });
  afterAll(async () => server?.dispose());

  const everyVersion = [
    'basket_config/v/a.json@3*',
    'basket_config/v/a.json@2',
    'basket_config/v/a.json@1',
    'basket_config/v/b.json@1*',
    'basket_config/v/c.json@3×*',
    'basket_config/v/c.json@2',
    'basket_config/v/c.json@1',
  ];

  it('lists the versions of tombstoned objects, their tombstone as the latest delete marker', async () => {
    const all = await core.s3.send(
      new ListObjectVersionsCommand({ Bucket: 'core', Prefix: 'basket_config/v/' }),
    );
    expect(itemsOf(all)).toEqual(everyVersion);
    expect(all.IsTruncated).toBe(false);
  });

  /** Every page of a ListObjectVersions of core, following its Next* markers. */
  const versionPages = async (input: Omit<ListObjectVersionsCommandInput, 'Bucket'>) => {
    const pages: ListObjectVersionsCommandOutput[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (let round = 0; round < 20; round++) {
      const page = await core.s3.send(
        new ListObjectVersionsCommand({ Bucket: 'core', ...input, KeyMarker, VersionIdMarker }),
      );
      pages.push(page);
      if (!page.IsTruncated) return pages;
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
    throw new Error('the pages do not end');
  };

  it('pages versions by key-marker and version-id-marker, each version once', async () => {
    const pages = await versionPages({ Prefix: 'basket_config/v/', MaxKeys: 2 });
    expect(pages.map((page) => itemsOf(page).length)).toEqual([2, 2, 2, 1]);
    expect(pages.flatMap(itemsOf)).toEqual(everyVersion);
    expect([pages[0]?.NextKeyMarker, pages[0]?.NextVersionIdMarker]).toEqual([
      'basket_config/v/a.json',
      '2',
    ]);
    // A key-marker alone starts after that key.
    const after = await core.s3.send(
      new ListObjectVersionsCommand({
        Bucket: 'core',
        Prefix: 'basket_config/v/',
        KeyMarker: 'basket_config/v/a.json',
      }),
    );
    expect(itemsOf(after)).toEqual(everyVersion.slice(3));
  });

  it('pages common prefixes with the versions, a prefix once', async () => {
    await put('basket_config/w/x.json', 1);
    const pages = await versionPages({ Prefix: 'basket_config/', Delimiter: '/', MaxKeys: 1 });
    expect(
      pages.flatMap((page) => (page.CommonPrefixes ?? []).map((found) => found.Prefix)),
    ).toEqual(['basket_config/v/', 'basket_config/w/']);
  });

  it('groups multipart uploads under a delimiter as common prefixes, paged', async () => {
    const keys = [
      'educational_content/d/1.txt',
      'educational_content/d/a/2.txt',
      'educational_content/d/a/3.txt',
      'educational_content/d/b/4.txt',
    ];
    const created: [string, string][] = [];
    for (const key of keys) {
      const answer = await gurukul.s3.send(
        new CreateMultipartUploadCommand({ Bucket: 'gurukul', Key: key }),
      );
      created.push([key, answer.UploadId!]);
    }
    try {
      const list = (keyMarker?: string) =>
        gurukul.s3.send(
          new ListMultipartUploadsCommand({
            Bucket: 'gurukul',
            Prefix: 'educational_content/d/',
            Delimiter: '/',
            MaxUploads: 2,
            KeyMarker: keyMarker,
          }),
        );
      const first = await list();
      expect(first.Uploads?.map((u) => u.Key)).toEqual(['educational_content/d/1.txt']);
      expect(first.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['educational_content/d/a/']);
      expect(first.IsTruncated).toBe(true);
      expect(first.NextKeyMarker).toBe('educational_content/d/a/');
      const second = await list(first.NextKeyMarker);
      expect(second.Uploads ?? []).toEqual([]);
      expect(second.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['educational_content/d/b/']);
      expect(second.IsTruncated).toBe(false);
    } finally {
      for (const [key, uploadId] of created) {
        await gurukul.s3.send(
          new AbortMultipartUploadCommand({ Bucket: 'gurukul', Key: key, UploadId: uploadId }),
        );
      }
    }
  });

  it('pages multipart uploads by key-marker and upload-id-marker', async () => {
    const create = async (key: string) =>
      (await gurukul.s3.send(new CreateMultipartUploadCommand({ Bucket: 'gurukul', Key: key })))
        .UploadId!;
    const created = [
      ['educational_content/u/1.txt', await create('educational_content/u/1.txt')],
      ['educational_content/u/1.txt', await create('educational_content/u/1.txt')],
      ['educational_content/u/2.txt', await create('educational_content/u/2.txt')],
      ['user_progress/u/3.json', await create('user_progress/u/3.json')],
    ];
    try {
      const seen: string[][] = [];
      let keyMarker: string | undefined;
      let uploadMarker: string | undefined;
      for (let round = 0; round < 10; round++) {
        const page = await gurukul.s3.send(
          new ListMultipartUploadsCommand({
            Bucket: 'gurukul',
            Prefix: 'educational_content/u/',
            MaxUploads: 1,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadMarker,
          }),
        );
        expect(page.Uploads?.length ?? 0).toBeLessThanOrEqual(1);
        seen.push(...(page.Uploads ?? []).map((u) => [u.Key!, u.UploadId!]));
        if (!page.IsTruncated) break;
        keyMarker = page.NextKeyMarker;
        uploadMarker = page.NextUploadIdMarker;
      }
      expect(seen).toEqual(created.slice(0, 3));
      const afterKey = await gurukul.s3.send(
        new ListMultipartUploadsCommand({
          Bucket: 'gurukul',
          KeyMarker: 'educational_content/u/1.txt',
        }),
      );
      expect(afterKey.Uploads?.map((u) => u.UploadId)).toEqual([created[2]![1], created[3]![1]]);
    } finally {
      for (const [key, uploadId] of created) {
        await gurukul.s3.send(
          new AbortMultipartUploadCommand({ Bucket: 'gurukul', Key: key, UploadId: uploadId }),
        );
      }
    }
  });
});
