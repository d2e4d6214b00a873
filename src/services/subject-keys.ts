/**
 * Data subjects' keys (SPEC §8): the seal of a subject-bound content as it is written — under the
 * subject's live key, or a new key (32 random bytes, wrapped by the key-encryption key) that the
 * version's commit stores in its own transaction — and the seal of a stored content for reading.
 * Keys are unwrapped when used and held by no cache: a key an erasure destroyed is gone from every
 * node at once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ArtifactVersion, SealedRef } from '../domain/artifact.js';
import { subjectKeyContext, type NewSubjectKey } from '../domain/erasure.js';
import { CONTENT_ID_BYTES, SUBJECT_KEY_BYTES } from '../domain/sealed-segments.js';
import { BucketError } from '../domain/errors.js';
import type { MasterKey } from '../storage/master-key.js';
import type { SubjectStore } from '../storage/ports.js';
import { contentSeal, type ContentSeal } from '../storage/sealed.js';

/** How a new subject-bound content is sealed, and the key its commit stores when it is new. */
export interface WriteSeal {
  readonly seal: ContentSeal;
  readonly ref: SealedRef;
  readonly newKey: NewSubjectKey | undefined;
}

export class SubjectKeys {
  constructor(
    private readonly store: Pick<SubjectStore, 'liveSubjectKey' | 'subjectKey'>,
    private readonly masterKey: MasterKey,
  ) {}

  /** The seal of a new content of `subject`, under a content id of its own. */
  async forWrite(subject: string, createdAt: string): Promise<WriteSeal> {
    const contentId = randomBytes(CONTENT_ID_BYTES).toString('hex');
    const live = await this.store.liveSubjectKey(subject);
    if (live?.wrapped) {
      const key = this.masterKey.unwrap(live.wrapped, subjectKeyContext(live.id, subject));
      return {
        seal: contentSeal(key, contentId),
        ref: { keyId: live.id, contentId },
        newKey: undefined,
      };
    }
    const id = `sk_${randomUUID()}`;
    const key = randomBytes(SUBJECT_KEY_BYTES);
    const wrapped = this.masterKey.wrap(key, subjectKeyContext(id, subject));
    return {
      seal: contentSeal(key, contentId),
      ref: { keyId: id, contentId },
      newKey: { id, subject, wrapped, createdAt },
    };
  }

  /**
   * The seal of a stored content. A key destroyed since the version was read means an erasure
   * purged it meanwhile: 410, as a read after the erasure answers.
   */
  async forRead(version: ArtifactVersion & { sealed: SealedRef }): Promise<ContentSeal> {
    const record = await this.store.subjectKey(version.sealed.keyId);
    if (!record?.wrapped) {
      throw new BucketError(
        'content_purged',
        `the content of ${version.name} version ${version.version} was erased with its data ` +
          'subject (its key is destroyed)',
      );
    }
    const key = this.masterKey.unwrap(record.wrapped, subjectKeyContext(record.id, record.subject));
    return contentSeal(key, version.sealed.contentId);
  }
}
