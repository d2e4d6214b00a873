/**
 * `bucket certify` (SPEC §9): the live certification as a table — every check's id, name, status
 * and evidence. Exits 1 when the Bucket is not certified (any key may run it).
 */
import type { Command } from 'commander';
import { EXIT_FAILURE } from '../errors.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import { connect, examples, remoteOptions, type RemoteOptions } from '../remote.js';

interface CheckAnswer {
  readonly id: string;
  readonly name: string;
  readonly status: 'pass' | 'fail';
  readonly evidence: Record<string, unknown>;
  readonly checkedAt: string;
}

interface CertificationAnswer {
  readonly status: 'certified' | 'not_certified';
  readonly generatedAt: string;
  readonly policyVersion: number;
  readonly checkpoint: { readonly size: number; readonly rootHash: string };
  readonly checks: readonly CheckAnswer[];
}

/** The longest evidence shown in the table; --json has it whole. */
const EVIDENCE_WIDTH = 100;

function evidenceOf(check: CheckAnswer): string {
  const text = JSON.stringify(check.evidence);
  return text.length > EVIDENCE_WIDTH ? `${text.slice(0, EVIDENCE_WIDTH - 1)}…` : text;
}

async function certify(options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<CertificationAnswer>(
    'GET',
    '/v1/governance/certification',
  );
  if (answer.status !== 'certified') process.exitCode = EXIT_FAILURE;
  if (options.json) return printJson(answer);
  const rows = answer.checks.map((check) => [
    check.id,
    check.name,
    check.status === 'pass' ? 'pass' : 'FAIL',
    evidenceOf(check),
  ]);
  printLine(formatTable([['ID', 'NAME', 'STATUS', 'EVIDENCE'], ...rows]));
  printLine(
    `${answer.status} at ${answer.generatedAt} (policy v${answer.policyVersion}, ` +
      `audit size ${answer.checkpoint.size}, root ${answer.checkpoint.rootHash})`,
  );
  const failed = answer.checks.filter((check) => check.status === 'fail').map((c) => c.id);
  if (failed.length > 0) {
    note(
      `failing: ${failed.join(', ')} — what each means and what to do: docs/OPERATIONS.md, ` +
        '"Certification"; whole evidence with --json',
    );
  }
}

export function registerCertify(program: Command): void {
  const command = program
    .command('certify')
    .description(
      'The live certification (any key): G1–G7 guarantees, R1–R7 refusals, T1–T7 detectors, ' +
        'F1–F6 failure mechanisms, L1–L5 limits, each computed from live state or a dry run ' +
        'through the gate. Exits 1 when not certified.',
    );
  remoteOptions(command)
    .addHelpText('after', examples('bucket certify', 'bucket certify --json'))
    .action(certify);
}
