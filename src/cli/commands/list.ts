/** `bucket ls` and `bucket versions`: what a product holds, and the history of one artifact. */
import type { Command } from 'commander';
import type { Static } from 'typebox';
import type {
  ListItem as ListItemSchema,
  PurgeRecord as PurgeRecordSchema,
} from '../../http/schemas.js';
import { UsageError } from '../errors.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import {
  artifactArgument,
  artifactPath,
  connect,
  examples,
  positiveInteger,
  remoteOptions,
  type ArtifactRef,
  type RemoteOptions,
} from '../remote.js';

/** The wire shapes, as the routes' schemas declare them. */
type ListItem = Static<typeof ListItemSchema>;
type PurgeRecord = Static<typeof PurgeRecordSchema>;

interface ListPage {
  readonly items: ListItem[];
  readonly nextCursor: string | null;
}

interface VersionItem {
  readonly version: number;
  readonly sha256: string;
  readonly size: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly tombstone: boolean;
  readonly purged?: PurgeRecord;
}

interface LsOptions extends RemoteOptions {
  readonly class?: string;
  readonly prefix?: string;
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

/** What stands in for a version's size when its content is gone: a read answers 410. */
function purgedLabel(purged: PurgeRecord): string {
  return purged.reason === 'erasure' ? '(erased)' : '(purged)';
}

function listLine(product: string, item: ListItem): string {
  const size = item.purged ? purgedLabel(item.purged) : String(item.size);
  return `${item.updatedAt}  ${size.padStart(12)}  ${`v${item.version}`.padEnd(5)}  ${product}/${item.class}/${item.name}`;
}

/** The SHA256 column of a version: its digest, or why it has no content any more. */
function versionState(v: VersionItem): string {
  if (v.tombstone) return '(deleted)';
  if (v.purged) {
    return `${purgedLabel(v.purged)} ${v.purged.reason} at ${v.purged.at}, audit entry ${v.purged.auditIndex}`;
  }
  return v.sha256;
}

async function ls(product: string, options: LsOptions): Promise<void> {
  if (product === '' || product.includes('/')) {
    throw new UsageError(
      `"${product}" is not a product id: list with \`bucket ls <product> --class C --prefix P\``,
    );
  }
  const client = connect(options);
  const items: ListItem[] = [];
  let cursor: string | null = options.cursor ?? null;
  let listed = 0;
  do {
    const page: ListPage = await client.json<ListPage>(
      'GET',
      `/v1/artifacts/${encodeURIComponent(product)}`,
      {
        query: {
          class: options.class,
          prefix: options.prefix,
          limit: options.limit,
          cursor: cursor ?? undefined,
        },
      },
    );
    // Text is printed page by page, so a long --all listing shows up as it arrives.
    if (options.json) items.push(...page.items);
    else for (const item of page.items) printLine(listLine(product, item));
    listed += page.items.length;
    cursor = page.nextCursor;
  } while (options.all && cursor !== null);

  if (options.json) return printJson({ items, nextCursor: cursor });
  if (listed === 0) note('no artifacts');
  if (cursor !== null) {
    note(`more artifacts: repeat with --cursor '${cursor}', or use --all`);
  }
}

async function versions(ref: ArtifactRef, options: RemoteOptions): Promise<void> {
  const client = connect(options);
  const answer = await client.json<{ versions: VersionItem[] }>(
    'GET',
    artifactPath(ref, '/versions'),
  );
  if (options.json) return printJson(answer);
  const rows = answer.versions.map((v) => [
    `v${v.version}`,
    v.createdAt,
    v.tombstone || v.purged ? '-' : String(v.size),
    versionState(v),
    v.createdBy,
  ]);
  printLine(formatTable([['VERSION', 'CREATED', 'SIZE', 'SHA256', 'CREATED BY'], ...rows]));
}

export function registerList(program: Command): void {
  const lsCommand = program
    .command('ls')
    .description(
      "List a product's live artifacts in (class, name) order, one page at a time " +
        '(--all follows the pages to the end). Columns: updated, size, version, artifact; the ' +
        'size of a current version whose content was purged (SPEC §8, a read answers 410) ' +
        'reads (purged), or (erased) after a data-subject erasure.',
    )
    .argument('<product>', 'the product, e.g. ai_avatar')
    .option('--class <class>', 'only this artifact class')
    .option('--prefix <prefix>', 'only names starting with this prefix')
    .option('--limit <n>', 'items per page (the server caps it)', positiveInteger)
    .option('--cursor <cursor>', 'continue a listing where a previous page stopped')
    .option('--all', 'fetch every page, not just the first');
  remoteOptions(lsCommand)
    .addHelpText(
      'after',
      examples(
        'bucket ls ai_avatar',
        'bucket ls ai_avatar --class model_checkpoint --prefix avatar/ --all',
        'bucket ls gurukul --limit 50 --json',
      ),
    )
    .action(ls);

  const versionsCommand = program
    .command('versions')
    .description(
      'List every version of an artifact, tombstones (deletions) included: a tombstone reads ' +
        '(deleted), a version whose content was purged (purged) or (erased), with the reason, ' +
        'when and the audit entry of the purge.',
    )
    .addArgument(artifactArgument());
  remoteOptions(versionsCommand)
    .addHelpText(
      'after',
      examples(
        'bucket versions ai_avatar/persona_config/tutor.json',
        'bucket versions ai_avatar/persona_config/tutor.json --json',
      ),
    )
    .action(versions);
}
