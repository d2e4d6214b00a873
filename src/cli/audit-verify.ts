/**
 * The two sources `bucket audit verify` feeds to the verification core: the storage of a data
 * directory (read-only, one snapshot, beside a running server) and an export file (JSON lines of
 * `GET /v1/audit/export`) checked with only the verifier key. Loaded on demand by the command.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  exportCheckpoint,
  exportEntry,
  exportHeader,
  isCheckpointLine,
  parseExportLine,
  type ExportEntry,
  type ExportHeader,
} from '../audit/export.js';
import { verifyFilteredExport } from '../audit/verify-filtered.js';
import {
  encodeVerifierKey,
  NoteError,
  parseVerifierKey,
  type NoteVerifier,
} from '../audit/note.js';
import { loadSigningKey, SigningKeyError } from '../audit/signing-key.js';
import {
  DEFAULT_MAX_PROBLEMS,
  passesFor,
  verifyAuditLog,
  type ContentDigest,
  type VerifyCheckpoint,
  type VerifyProblem,
  type VerifyReport,
  type VerifyVersion,
} from '../audit/verify.js';
import { ConfigError, configFromEnv } from '../config.js';
import { blobStoreFor, metadataStoreFor } from '../storage/factory.js';
import { readMasterKey } from '../storage/master-key.js';
import type { BlobStore, MetadataStore } from '../storage/ports.js';
import { openBytes, readSealedBlob } from '../storage/sealed.js';
import { SubjectKeys } from '../services/subject-keys.js';
import { CliError, UsageError } from './errors.js';

export type OnProgress = (done: number, total: number | undefined) => void;

export interface StorageVerification {
  readonly report: VerifyReport;
  readonly dataDir: string;
  readonly origin: string;
  readonly vkey: string;
}

/** Verifies the storage `bucket serve` would use (same configuration), never writing to it. */
export async function verifyStorage(
  dataDirOption: string | undefined,
  onProgress: OnProgress,
): Promise<StorageVerification> {
  let config;
  try {
    const env = dataDirOption ? { ...process.env, BUCKET_DATA_DIR: dataDirOption } : process.env;
    config = configFromEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  const { dataDir } = config;
  let store: MetadataStore;
  try {
    store = await metadataStoreFor(config, { readonly: true });
    await store.init();
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  try {
    const keyFile = config.auditKeyFile ?? join(dataDir, 'audit-signing.pem');
    let publicKey: Buffer;
    try {
      publicKey = (await loadSigningKey(keyFile, { create: false })).publicKey;
    } catch (error) {
      if (error instanceof SigningKeyError) throw new CliError(error.message);
      throw error;
    }
    const installationId = await store.getSetting('installation_id');
    if (config.auditOrigin === undefined && installationId === null) {
      throw new CliError(
        `${dataDir} has no installation id: set BUCKET_AUDIT_ORIGIN to the checkpoint origin`,
      );
    }
    const origin = config.auditOrigin ?? `bhiv-bucket/${installationId ?? ''}`;
    const vkey = encodeVerifierKey(origin, publicKey);
    // Blobs are content-addressed and never rewritten: read without init(), which would remove
    // the temporaries of uploads a running server has in progress.
    const blobs = await blobStoreFor(config);
    // Sealed contents (SPEC §8) are hashed as their plaintext: the key-encryption key is read,
    // never created, and is needed only when some version is sealed.
    const masterKeyFile = config.masterKeyFile ?? join(dataDir, 'master.key');
    const subjectKeys = async () => {
      const masterKey = await readMasterKey(masterKeyFile);
      if (!masterKey) throw new Error(`the key-encryption key ${masterKeyFile} is missing`);
      return new SubjectKeys(store, masterKey);
    };
    try {
      const report = await store.withReadSnapshot(async () => {
        const size = await store.auditSize();
        // Many versions are matched in shares, each reading the log again (bounded memory).
        const versionPasses = {
          passes: passesFor(await store.countVersions()),
          entries: () => store.auditRangeIndexed(0, size),
          versions: () => store.allVersions(),
        };
        return verifyAuditLog({
          entries: store.auditRangeIndexed(0, size),
          size,
          checkpoints: store.checkpoints(),
          verifier: parseVerifierKey(vkey),
          versions: store.allVersions(),
          versionPasses,
          contentDigest: (stored) => digestOf(stored, blobs, subjectKeys),
          policies: await store.listPolicies(),
          keys: await store.listKeys(),
          erasures: await store.listErasures(),
          onProgress,
        });
      });
      return { report, dataDir, origin, vkey };
    } finally {
      await blobs.close();
    }
  } finally {
    await store.close();
  }
}

async function digestOf(
  stored: VerifyVersion,
  blobs: BlobStore,
  subjectKeys: () => Promise<SubjectKeys>,
): Promise<ContentDigest> {
  const hash = createHash('sha256');
  let size = 0;
  const { sealed } = stored.version;
  if (sealed && stored.version.storage !== 'none') {
    const seal = await (await subjectKeys()).forRead({ ...stored.version, sealed });
    const plain =
      stored.version.storage === 'inline'
        ? openBytes(seal, stored.version.size, stored.inline ?? Buffer.alloc(0))
        : await readSealedBlob(blobs, seal, stored.version.size);
    for await (const chunk of (Buffer.isBuffer(plain) ? [plain] : plain) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
  } else if (stored.version.storage === 'inline') {
    if (stored.inline === null) throw new Error('its inline bytes are missing');
    hash.update(stored.inline);
    size = stored.inline.length;
  } else if (stored.version.storage === 'blob') {
    let stream;
    try {
      stream = await blobs.read(stored.version.sha256);
    } catch (error) {
      throw new Error(`blob ${stored.version.sha256} cannot be read: ${(error as Error).message}`);
    }
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
  } else {
    throw new Error(`a live version stored as "${stored.version.storage}" has no content`);
  }
  return { sha256: hash.digest('hex'), size };
}

/** A verifier key given as the key itself, or as a file holding it (or the public-key answer). */
export async function readVerifierKey(value: string): Promise<NoteVerifier> {
  try {
    return parseVerifierKey(value.trim());
  } catch (error) {
    if (!(error instanceof NoteError)) throw error;
  }
  let text: string;
  try {
    text = (await readFile(value, 'utf8')).trim();
  } catch {
    throw new UsageError(
      `--vkey is neither a verifier key (<name>+<id>+<key>) nor a file: ${value}`,
    );
  }
  if (text.startsWith('{')) {
    try {
      text = String((JSON.parse(text) as { vkey?: unknown }).vkey ?? '');
    } catch {
      throw new UsageError(
        `${value} is not a verifier key nor the JSON of GET /v1/audit/public-key`,
      );
    }
  }
  try {
    return parseVerifierKey(text);
  } catch (error) {
    throw new UsageError(`${value}: ${(error as Error).message}`);
  }
}

/** A checkpoint note is a few hundred bytes; the last line is looked for in this much of the tail. */
const TAIL_BYTES = 64 * 1024;

/** Verifies an export file against a verifier key, streaming it line by line. */
export async function verifyExport(
  file: string,
  verifier: NoteVerifier,
  onProgress: OnProgress,
): Promise<VerifyReport> {
  const formatProblems: VerifyProblem[] = [];
  const malformed = (message: string) => formatProblems.push({ code: 'export_malformed', message });
  const header = await readHeader(file);
  const checkpoint = await readFinalCheckpoint(file, malformed);
  if (header.origin !== verifier.name) {
    malformed(`the export is of origin "${header.origin}", the key is "${verifier.name}"`);
  }
  // A namespace key's export: its product's entries, each proven against the checkpoint.
  const report = header.filter
    ? await verifyFilteredExport({
        entries: exportEntries(file, malformed),
        from: header.from,
        size: header.to,
        product: header.filter.product,
        checkpoint,
        verifier,
        onProgress,
      })
    : await verifyAuditLog({
        entries: exportEntries(file, malformed),
        from: header.from,
        frontier: header.frontier,
        size: header.to,
        checkpoints: checkpoint ? [checkpoint] : [],
        verifier,
        onProgress,
      });
  if (checkpoint && checkpoint.size !== header.to) {
    malformed(
      `the checkpoint is of size ${checkpoint.size}, the header says the export ends at ${header.to}`,
    );
  }
  return {
    ...report,
    problems: [...formatProblems, ...report.problems].slice(
      0,
      Math.max(DEFAULT_MAX_PROBLEMS, formatProblems.length),
    ),
    problemCount: report.problemCount + formatProblems.length,
  };
}

async function firstLine(file: string): Promise<string> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
  }
}

async function readHeader(file: string): Promise<ExportHeader> {
  let line: string;
  try {
    line = await firstLine(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const value = parseExportLine(line);
  if (value === undefined) {
    throw new CliError(`${file} does not start with an export header (GET /v1/audit/export)`);
  }
  const header = exportHeader(value);
  if (!header) throw new CliError(`${file}: the first line is not a valid export header`);
  return header;
}

/** The last line, which must be the signed checkpoint the export was made against. */
async function readFinalCheckpoint(
  file: string,
  malformed: (message: string) => void,
): Promise<VerifyCheckpoint | null> {
  const handle = await open(file, 'r');
  let tail: string;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    tail = buffer.toString('utf8');
  } finally {
    await handle.close();
  }
  const lines = tail.split('\n').filter((line) => line.length > 0);
  const checkpoint = exportCheckpoint(parseExportLine(lines[lines.length - 1] ?? '') ?? {});
  if (!checkpoint) malformed('the export does not end with a checkpoint line (incomplete file?)');
  return checkpoint;
}

async function* exportEntries(
  file: string,
  malformed: (message: string) => void,
): AsyncIterable<ExportEntry> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let lineNumber = 0;
  let checkpointLine = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (lineNumber === 1 || line.length === 0) continue;
    const value = parseExportLine(line);
    if (value === undefined) {
      malformed(`line ${lineNumber}: not JSON`);
      continue;
    }
    if (isCheckpointLine(value)) {
      checkpointLine = lineNumber;
      continue;
    }
    if (checkpointLine > 0) {
      malformed(`line ${lineNumber}: after the checkpoint line ${checkpointLine}`);
      checkpointLine = 0;
    }
    const entry = exportEntry(value);
    if (entry) yield entry;
    else malformed(`line ${lineNumber}: not an entry line`);
  }
}
