/**
 * A CopyObject is one governed request (SPEC §13, §4.3; decision record 0053): one recorded
 * decision and one audit entry — the write of the copy, naming the source it read — or, when the
 * read of the source is refused or fails, that refusal or failure alone, with nothing stored.
 */
import { CopyObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/run.js';
import { s3Client, s3CredentialOf, s3Principal, S3_ENV } from '../../helpers/s3-door.js';
import {
  approvedIntegration,
  client,
  createKey,
  startTestServer,
  type InProcessTestServer,
} from '../../helpers/server.js';

interface Entry {
  readonly index: number;
  readonly entry: {
    readonly allow: boolean;
    readonly operation: string;
    readonly target: { product: string; class: string; name: string };
    readonly version?: number;
    readonly copiedFrom?: unknown;
  };
}

describe('S3 CopyObject: one decision, one audit entry', () => {
  let server: InProcessTestServer;
  let owner: ReturnType<typeof client>;

  /** The entries a key's requests added while `act` ran. */
  const entriesOf = async (keyId: string, act: () => Promise<unknown>): Promise<Entry[]> => {
    const list = async () =>
      (await owner('GET', `/v1/audit/entries?principal=${keyId}&limit=1000`)).json
        .entries as Entry[];
    const before = new Set((await list()).map((found) => found.index));
    await act();
    return (await list()).filter((found) => !before.has(found.index));
  };

  /** The entries of a copy within gurukul that fails with `name`. */
  const failedCopy = (s3: S3Client, keyId: string, from: string, to: string, name: string) =>
    entriesOf(keyId, () =>
      expect(
        s3.send(
          new CopyObjectCommand({ Bucket: 'gurukul', Key: to, CopySource: `gurukul/${from}` }),
        ),
      ).rejects.toMatchObject({ name }),
    );

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    owner = client(server.url, server.ownerKey);
  });
  afterAll(async () => server?.dispose());

  it('records the copy as one allowed write naming its source', async () => {
    const gurukul = await s3Principal(server, 'product', 'gurukul');
    const body = '# lesson one';
    await gurukul.s3.send(
      new PutObjectCommand({
        Bucket: 'gurukul',
        Key: 'educational_content/copy/one.md',
        Body: body,
        ContentType: 'text/markdown',
      }),
    );
    const added = await entriesOf(gurukul.key.id, () =>
      gurukul.s3.send(
        new CopyObjectCommand({
          Bucket: 'gurukul',
          Key: 'educational_content/copy/two.md',
          CopySource: 'gurukul/educational_content/copy/one.md',
        }),
      ),
    );
    expect(added).toHaveLength(1);
    expect(added[0]?.entry).toMatchObject({
      allow: true,
      target: { product: 'gurukul', class: 'educational_content', name: 'copy/two.md' },
      version: 1,
      copiedFrom: {
        product: 'gurukul',
        class: 'educational_content',
        name: 'copy/one.md',
        version: 1,
        sha256: createHash('sha256').update(body).digest('hex'),
      },
    });
  });

  it('leaves a log that verifies, the copy and its entry matched', async () => {
    const env = { ...server.backend?.env, BUCKET_DATA_DIR: server.dataDir };
    const verified = await runCli(['audit', 'verify'], { env });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });

  it('records a refused read of the source as the one decision, and stores nothing', async () => {
    const gurukul = await s3Principal(server, 'product', 'gurukul');
    await gurukul.s3.send(
      new PutObjectCommand({
        Bucket: 'gurukul',
        Key: 'user_progress/copy/u1.json',
        Body: '{"done":3}',
        ContentType: 'application/json',
      }),
    );
    // A key whose integration declares educational_content only: it may write the copy, not
    // read the source (SPEC §4.1 stage 2, T4).
    const integrationId = await approvedIntegration(server, 'gurukul', ['educational_content']);
    const narrow = await createKey(server, { kind: 'product', product: 'gurukul', integrationId });
    const s3 = s3Client(server, await s3CredentialOf(server, narrow.id));
    const added = await failedCopy(
      s3,
      narrow.id,
      'user_progress/copy/u1.json',
      'educational_content/copy/stolen.json',
      'AccessDenied',
    );
    expect(added).toHaveLength(1);
    expect(added[0]?.entry).toMatchObject({
      allow: false,
      target: { class: 'user_progress', name: 'copy/u1.json' },
    });
    const copy = await owner('GET', '/v1/artifacts/gurukul/educational_content/copy/stolen.json');
    expect(copy.status).toBe(404);
  });

  it('records a missing source as the one decision: the failure of the read', async () => {
    const gurukul = await s3Principal(server, 'product', 'gurukul');
    const added = await failedCopy(
      gurukul.s3,
      gurukul.key.id,
      'educational_content/copy/missing.md',
      'educational_content/copy/none.md',
      'NoSuchKey',
    );
    expect(added).toHaveLength(1);
    expect(added[0]?.entry).toMatchObject({
      allow: false,
      target: { class: 'educational_content', name: 'copy/missing.md' },
    });
  });
});
