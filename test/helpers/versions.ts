/** Artifact versions for the metadata stores' tests, and committing them as the service does. */
import { expect } from 'vitest';
import type { ArtifactVersion } from '../../src/domain/artifact.js';
import type { CommitResult, MetadataStore } from '../../src/storage/ports.js';
import { audited } from './audit.js';

/** A version of gurukul/user_progress; its digest follows from its number. */
export function version(
  fields: Partial<ArtifactVersion> & Pick<ArtifactVersion, 'name' | 'version'>,
): ArtifactVersion {
  return {
    product: 'gurukul',
    class: 'user_progress',
    sha256: fields.version.toString(16).padStart(64, '0'),
    size: 10,
    contentType: 'application/json',
    meta: { source: 'test' },
    createdAt: '2026-11-27T20:00:00.000Z',
    createdBy: 'key_test',
    retention: { mode: 'governance', until: '2027-11-27T20:00:00.000Z' },
    tombstone: false,
    storage: 'inline',
    ...fields,
  };
}

/** Commits `v` against the head before it (version − 1), with its entry; expects it to commit. */
export async function commitNext(
  store: MetadataStore,
  v: ArtifactVersion,
  inline: Buffer | null = Buffer.from('{"n":1}'),
): Promise<CommitResult> {
  const result = await store.commitVersion(
    audited({
      version: v,
      expectedCurrentVersion: v.version - 1,
      inline: v.storage === 'inline' ? inline : null,
    }),
  );
  expect(result).toMatchObject({ ok: true });
  return result;
}
