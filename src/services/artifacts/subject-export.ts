/**
 * A data subject's access export (SPEC §8 DSAR, GDPR Art. 15): one NDJSON line per version of the
 * subject still holding content — every version neither tombstoned nor purged, superseded ones
 * included, since the Bucket still holds them — then a summary line. Read a page at a time from the
 * subject index and written as it is read: a large content is base64-encoded as it streams, so
 * memory stays bounded whatever the number or size of the versions. The route's action
 * (`subjects.export`) decided the request; content goes only to the kinds that read content, and to
 * auditors for the classes whose policy rule grants it (`auditorContent`).
 */
import type { Readable } from 'node:stream';
import { ruleOf } from '../../domain/policy.js';
import type { Principal } from '../../domain/principal.js';
import { ExportSummary, exportLineOf, type SubjectVersion } from '../../domain/subjects.js';
import { readsContent } from '../../gate/actions.js';
import { JSON_MEDIA_TYPE, mediaTypeOf } from '../../gate/stages/content.js';
import { keyOf, type ArtifactDeps } from './deps.js';
import { openContent } from './read.js';

/** A JSON content larger than this is exported as base64, streamed, rather than parsed whole. */
const JSON_LINE_MAX_BYTES = 8 * 1024 * 1024;

export async function* subjectExportLines(
  deps: ArtifactDeps,
  subject: string,
  principal: Principal,
): AsyncIterable<string> {
  // The policy of the export's start: an auditor gets the content of the classes it grants them.
  const classes = deps.policies.current().document.classes;
  const summary = new ExportSummary();
  for await (const found of deps.metadata.subjectVersions(subject)) {
    const line = exportLineOf(found);
    summary.add(line);
    const text = JSON.stringify(line);
    if (!readsContent(principal.kind, ruleOf(classes, found.version.class))) {
      yield `${text}\n`;
      continue;
    }
    const open = text.slice(0, -1);
    const content = await contentOf(deps, found);
    const json =
      mediaTypeOf(line.contentType) === JSON_MEDIA_TYPE && line.size <= JSON_LINE_MAX_BYTES
        ? await jsonOf(content)
        : null;
    if (json !== null) {
      yield `${open},"json":${json}}\n`;
      continue;
    }
    yield `${open},"base64":"`;
    yield* base64Of(content);
    yield '"}\n';
  }
  yield `${JSON.stringify(summary)}\n`;
}

async function contentOf(deps: ArtifactDeps, found: SubjectVersion): Promise<Readable | Buffer> {
  const { version } = found;
  const inline =
    version.storage === 'inline'
      ? await deps.metadata.readInline(keyOf(version), version.version)
      : null;
  return openContent(deps, version, inline, undefined);
}

/**
 * A JSON content as one line of JSON, or null when it does not parse: it is then exported as
 * base64.
 */
async function jsonOf(content: Readable | Buffer): Promise<string | null> {
  let bytes: Buffer;
  if (Buffer.isBuffer(content)) {
    bytes = content;
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of content) chunks.push(chunk as Buffer);
    bytes = Buffer.concat(chunks);
  }
  try {
    return JSON.stringify(JSON.parse(bytes.toString('utf8')));
  } catch {
    return null;
  }
}

/** A content in base64 as it streams: whole 3-byte groups per chunk, the rest carried over. */
async function* base64Of(content: Readable | Buffer): AsyncIterable<string> {
  if (Buffer.isBuffer(content)) {
    yield content.toString('base64');
    return;
  }
  let carry = Buffer.alloc(0);
  for await (const chunk of content) {
    const bytes = carry.length === 0 ? (chunk as Buffer) : Buffer.concat([carry, chunk as Buffer]);
    const whole = bytes.length - (bytes.length % 3);
    if (whole > 0) yield bytes.subarray(0, whole).toString('base64');
    carry = Buffer.from(bytes.subarray(whole));
  }
  if (carry.length > 0) yield carry.toString('base64');
}
