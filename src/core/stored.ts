/**
 * Core's reads of its own artifacts in the `core` namespace (SPEC §11): basket configs, agent
 * specs, step outputs and execution records, read from the store directly as the Bucket's own
 * data — the request that shows them is the one the gate decides. A content is returned only when
 * it is intact (its SHA-256 checked) and within the class's size; anything else reads as null, or,
 * for a step's output, as the reason it cannot be read (purged, erased, missing, unreadable).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ArtifactVersion } from '../domain/artifact.js';
import type { ArtifactRef, StepOutput } from '../domain/runs.js';
import { EXECUTION_RECORD_MAX_BYTES } from '../domain/run-record.js';
import type { BlobStore, MetadataStore } from '../storage/ports.js';

/** The largest contents Core reads, per class (the class maxima of SPEC §2.2). */
export const CORE_CLASS_MAX_BYTES = {
  agent_spec: 1024 * 1024,
  basket_config: 1024 * 1024,
  agent_output: 10 * 1024 * 1024,
  execution_record: EXECUTION_RECORD_MAX_BYTES,
} as const;

export type CoreClass = keyof typeof CORE_CLASS_MAX_BYTES;

async function collect(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new Error('too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class CoreStore {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
  ) {}

  /** The current version of `core/<cls>/<name>`, or null (none, or a tombstone's). */
  async head(cls: CoreClass, name: string): Promise<ArtifactVersion | null> {
    const head = await this.metadata.getHead({ product: 'core', class: cls, name });
    return head && !head.tombstone ? head : null;
  }

  /** A version's JSON content, intact, or null (absent, purged, unreadable, too large). */
  async json(version: ArtifactVersion | null): Promise<unknown> {
    if (!version || version.tombstone || version.storage === 'none') return null;
    // Core writes no subject-bound content (SPEC §8): a sealed or purged one reads as gone.
    if (version.purged || version.sealed) return null;
    const maxBytes = CORE_CLASS_MAX_BYTES[version.class as CoreClass] ?? 0;
    if (version.size > maxBytes) return null;
    try {
      const key = { product: version.product, class: version.class, name: version.name };
      const bytes =
        version.storage === 'inline'
          ? await this.metadata.readInline(key, version.version)
          : await collect(await this.blobs.read(version.sha256), maxBytes);
      if (!bytes || createHash('sha256').update(bytes).digest('hex') !== version.sha256) {
        return null;
      }
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      return null;
    }
  }

  /** A step's output through its `agent_output` artifact (the version the step stored). */
  async output(ref: Pick<ArtifactRef, 'name' | 'version'> | undefined): Promise<StepOutput> {
    if (!ref) return { unavailable: 'missing' };
    const key = { product: 'core', class: 'agent_output', name: ref.name };
    const version = await this.metadata.getVersion(key, ref.version);
    if (!version || version.tombstone) return { unavailable: 'missing' };
    if (version.purged) {
      return { unavailable: version.purged.reason === 'erasure' ? 'erased' : 'purged' };
    }
    const content = await this.json(version);
    return content === null ? { unavailable: 'unreadable' } : { output: content };
  }
}
