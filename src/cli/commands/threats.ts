/**
 * `bucket threats`: the threat catalogue T1–T7 with live counts, the keys escalation suspended and
 * the most recent detections (SPEC §5, `GET /v1/governance/threats`).
 */
import type { Command } from 'commander';
import type { ThreatCatalogueEntry } from '../../services/threats.js';
import type { ThreatRecord } from '../../domain/threats.js';
import { formatTable, printJson, printLine } from '../output.js';
import {
  connect,
  examples,
  positiveInteger,
  remoteOptions,
  type RemoteOptions,
} from '../remote.js';

interface ThreatsAnswer {
  readonly threats: ThreatCatalogueEntry[];
  /** Newest first. */
  readonly recent: ThreatRecord[];
  readonly suspendedKeys: { keyId: string; suspendedAt: string; reason: string }[];
}

interface ThreatsOptions extends RemoteOptions {
  readonly recent: number;
}

const DEFAULT_RECENT = 10;

function catalogueTable(threats: readonly ThreatCatalogueEntry[]): string {
  const rows = threats.map((entry) => [
    entry.id,
    entry.name,
    entry.severity,
    String(entry.detections),
    String(entry.last24h),
    entry.detectors.map((detector) => detector.id).join(', ') || '-',
  ]);
  return formatTable([['ID', 'THREAT', 'SEVERITY', 'COUNT', 'LAST 24H', 'DETECTORS'], ...rows]);
}

function suspendedTable(suspended: ThreatsAnswer['suspendedKeys']): string {
  const rows = suspended.map(({ keyId, suspendedAt, reason }) => [
    keyId,
    suspendedAt,
    `bucket keys reinstate ${keyId}`,
    reason,
  ]);
  return formatTable([['KEY', 'SUSPENDED', 'REINSTATE WITH', 'REASON'], ...rows]);
}

function recentTable(recent: readonly ThreatRecord[]): string {
  const rows = recent.map((record) => [
    record.at,
    record.threatId,
    record.severity,
    // Brute-force detections are made before any key is known.
    record.principalId ?? '(no key)',
    record.evidence,
  ]);
  return formatTable([['TIME', 'THREAT', 'SEVERITY', 'KEY', 'EVIDENCE'], ...rows]);
}

async function threats(options: ThreatsOptions): Promise<void> {
  const answer = await connect(options).json<ThreatsAnswer>('GET', '/v1/governance/threats');
  if (options.json) return printJson(answer);

  printLine(catalogueTable(answer.threats));
  printLine('');
  const suspended = answer.suspendedKeys;
  if (suspended.length === 0) {
    printLine('suspended keys: none');
  } else {
    printLine(`suspended keys (${suspended.length}), refused until the owner reinstates them:`);
    printLine(suspendedTable(suspended));
  }
  printLine('');
  if (answer.recent.length === 0) return printLine('recent detections: none');
  const shown = answer.recent.slice(0, options.recent);
  const more =
    shown.length < answer.recent.length
      ? `, ${shown.length} of the ${answer.recent.length} the Bucket returned; --recent N for more`
      : '';
  printLine(`recent detections (newest first${more}):`);
  printLine(recentTable(shown));
}

export function registerThreats(program: Command): void {
  const command = program
    .command('threats')
    .description(
      'Show the threat catalogue T1–T7 with live counts, the keys suspended after repeated ' +
        'CRITICAL threats (and how to reinstate them), and recent detections ' +
        '(owner, executor or auditor key).',
    )
    .option('--recent <n>', 'how many recent detections to print', positiveInteger, DEFAULT_RECENT);
  remoteOptions(command)
    .addHelpText(
      'after',
      examples(
        'bucket threats',
        'bucket threats --recent 50',
        'bucket keys reinstate key_0123456789abcdef   # lift a suspension listed here',
      ),
    )
    .action(threats);
}
