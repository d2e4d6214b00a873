/**
 * `bucket put` run again with what the artifact already holds — the retry of an upload whose
 * answer was lost — reports the stored version: nothing is sent, no version is added, and in a
 * write-once class no overwrite is attempted (which the gate would deny as a CRITICAL threat and
 * count toward the key's suspension). Different content, type or metadata, a precondition, or
 * --force still write.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { client, createKey } from '../helpers/server.js';
import { sha256 } from '../helpers/hash.js';
import { cliServer, runCli } from './run.js';

describe('bucket put, run again', () => {
  const cli = cliServer();
  let env: { BUCKET_URL: string; BUCKET_KEY: string };
  let keyId: string;

  beforeAll(async () => {
    const created = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    keyId = created.id;
    env = cli.as(created.key);
  });

  const versionsOf = async (artifact: string) => {
    const listed = await runCli(['versions', artifact, '--json'], { env });
    expect(listed.code).toBe(0);
    return (JSON.parse(listed.stdout) as { versions: { version: number }[] }).versions.length;
  };
  const t3Detections = async () => {
    const owner = client(cli.server.url, cli.server.ownerKey);
    const answer = await owner('GET', '/v1/governance/threats');
    return (answer.json.recent as { threatId: string; principalId: string | null }[]).filter(
      (record) => record.threatId === 'T3' && record.principalId === keyId,
    ).length;
  };

  it('a write-once checkpoint put again is reported as stored, with no overwrite attempted', async () => {
    const content = randomBytes(3 * 1024 * 1024);
    const file = join(cli.dir, 'v7.ckpt');
    await writeFile(file, content);
    const artifact = 'ai_avatar/model_checkpoint/avatar/v7.ckpt';

    const first = await runCli(['put', artifact, file], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^created .* v1 /);

    // Three retries: each would have been a CRITICAL T3 detection, the third suspending the key.
    for (let attempt = 0; attempt < 3; attempt++) {
      const again = await runCli(['put', artifact, file], { env });
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      expect(again.stdout.trim()).toBe(
        `unchanged ${artifact} v1 sha256=${sha256(content)} size=${content.length}: the current ` +
          'version already holds this content, nothing was uploaded (class "model_checkpoint" ' +
          'is write-once: a new version needs a new name)',
      );
    }
    expect(await t3Detections()).toBe(0);
    expect(await versionsOf(artifact)).toBe(1);
    // The key was never suspended: it still reads.
    expect((await runCli(['ls', 'ai_avatar'], { env })).code).toBe(0);

    const asJson = await runCli(['put', artifact, file, '--json'], { env });
    expect(JSON.parse(asJson.stdout)).toEqual({
      product: 'ai_avatar',
      class: 'model_checkpoint',
      name: 'avatar/v7.ckpt',
      version: 1,
      sha256: sha256(content),
      size: content.length,
      contentType: 'application/octet-stream',
      unchanged: true,
    });

    // Other content under the write-once name is still the overwrite the gate refuses.
    const other = join(cli.dir, 'other.ckpt');
    await writeFile(other, randomBytes(1024));
    const refused = await runCli(['put', artifact, other], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('does not allow UPDATE');
    expect(await t3Detections()).toBe(1);
  });

  it('in an updatable class, only the same content, type and metadata are skipped', async () => {
    const artifact = 'ai_avatar/avatar_config/aria.json';
    const file = join(cli.dir, 'aria.json');
    await writeFile(file, '{"voice":"warm"}');
    expect((await runCli(['put', artifact, file, '--meta', 'source=studio'], { env })).code).toBe(
      0,
    );

    const same = await runCli(['put', artifact, file, '--meta', 'source=studio'], { env });
    expect(same.stdout).toMatch(/^unchanged .* v1 .*\(--force writes a new version\)$/m);
    expect(await versionsOf(artifact)).toBe(1);

    // Each of these differs from the current version in one way, and writes.
    const otherMeta = await runCli(['put', artifact, file, '--meta', 'source=cli'], { env });
    expect(otherMeta.stdout).toMatch(/^updated .* v2 /);
    const noMeta = await runCli(['put', artifact, file], { env });
    expect(noMeta.stdout).toMatch(/^updated .* v3 /);
    const otherType = await runCli(
      ['put', artifact, file, '--content-type', 'application/json; charset=utf-8'],
      { env },
    );
    expect(otherType.stdout).toMatch(/^updated .* v4 /);
    await writeFile(file, '{"voice":"calm"}');
    const otherContent = await runCli(
      ['put', artifact, file, '--content-type', 'application/json; charset=utf-8'],
      { env },
    );
    expect(otherContent.stdout).toMatch(/^updated .* v5 /);

    // --force and a precondition write even the same content again.
    const forced = await runCli(
      ['put', artifact, file, '--content-type', 'application/json; charset=utf-8', '--force'],
      { env },
    );
    expect(forced.stdout).toMatch(/^updated .* v6 /);
    const conditional = await runCli(
      [
        'put',
        artifact,
        file,
        '--content-type',
        'application/json; charset=utf-8',
        '--if-version',
        '6',
      ],
      { env },
    );
    expect(conditional.stdout).toMatch(/^updated .* v7 /);
    expect(await versionsOf(artifact)).toBe(7);
  });
});
