/**
 * Data subjects (SPEC §8): the id a write names with `x-bucket-meta-subject`, and the lines of a
 * subject's access export (GDPR Art. 15). Pure: no I/O.
 */
import type { ArtifactVersion, Retention } from './artifact.js';

/** SPEC §8: 1–128 characters of `[A-Za-z0-9._:@-]`. */
export const SUBJECT_PATTERN = '^[A-Za-z0-9._:@-]{1,128}$';
const SUBJECT_ID = new RegExp(SUBJECT_PATTERN);

export function isSubjectId(value: string): boolean {
  return SUBJECT_ID.test(value);
}

/** The metadata key that names a version's data subject (`x-bucket-meta-subject`). */
export const SUBJECT_META_KEY = 'subject';

/** A version of a subject as the export reads it from the subject index. */
export interface SubjectVersion {
  readonly version: ArtifactVersion;
  /** The leaf index of the entry that allowed the write; null for versions stored before it was. */
  readonly auditIndex: number | null;
}

/** Where a page of the subject index starts: after this version. */
export interface SubjectCursor {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
}

/** One line of the export, before its content (SPEC §8 pinned members). */
export type SubjectExportLine = Pick<
  ArtifactVersion,
  'product' | 'class' | 'name' | 'version' | 'sha256' | 'size' | 'contentType' | 'createdAt'
> & { readonly retention: Retention; readonly auditIndex: number | null };

export function exportLineOf({ version: v, auditIndex }: SubjectVersion): SubjectExportLine {
  return {
    product: v.product,
    class: v.class,
    name: v.name,
    version: v.version,
    sha256: v.sha256,
    size: v.size,
    contentType: v.contentType,
    createdAt: v.createdAt,
    retention: { mode: v.retention.mode, until: v.retention.until },
    auditIndex,
  };
}

/** The export's last line: what it held. */
export class ExportSummary {
  private versions = 0;
  private bytes = 0;
  private readonly products = new Set<string>();

  add(line: SubjectExportLine): void {
    this.versions += 1;
    this.bytes += line.size;
    this.products.add(line.product);
  }

  toJSON() {
    return {
      summary: { versions: this.versions, bytes: this.bytes, products: [...this.products].sort() },
    };
  }
}
