/**
 * `bucket mode [set MODE --reason R]` and `bucket incidents [list|resolve ID --resolution R]`
 * (SPEC §9): the Bucket's mode, its switch by the owner, and the incidents that explain it.
 */
import { Argument, type Command } from 'commander';
import { MODES, type Incident, type ModeState } from '../../domain/modes.js';
import { formatTable, note, printJson, printLine } from '../output.js';
import { connect, examples, remoteOptions, type RemoteOptions } from '../remote.js';

type ModeAnswer = Omit<ModeState, 'incidentId'> & { readonly incidentId?: string };

function printMode(state: ModeAnswer): void {
  printLine(`mode: ${state.mode}`);
  printLine(`since: ${state.since}`);
  printLine(`by: ${state.by}`);
  printLine(`reason: ${state.reason}`);
  if (state.incidentId) printLine(`incident: ${state.incidentId} (bucket incidents list)`);
}

async function showMode(options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<ModeAnswer>('GET', '/v1/governance/mode');
  if (options.json) return printJson(answer);
  printMode(answer);
}

interface SetOptions extends RemoteOptions {
  readonly reason: string;
}

async function setMode(mode: string, options: SetOptions): Promise<void> {
  const answer = await connect(options).json<ModeAnswer>('POST', '/v1/governance/mode', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode, reason: options.reason }),
  });
  if (options.json) return printJson(answer);
  printMode(answer);
  if (answer.mode !== 'normal') note('return with: bucket mode set normal --reason "…"');
}

interface ListOptions extends RemoteOptions {
  readonly open?: boolean;
}

function incidentsTable(incidents: readonly Incident[]): string {
  const rows = incidents.map((incident) => [
    incident.id,
    incident.kind,
    incident.status,
    incident.detectedAt,
    incident.resolution ?? '-',
    JSON.stringify(incident.evidence),
  ]);
  return formatTable([['ID', 'KIND', 'STATUS', 'DETECTED', 'RESOLUTION', 'EVIDENCE'], ...rows]);
}

async function listIncidents(options: ListOptions): Promise<void> {
  const answer = await connect(options).json<{ incidents: Incident[] }>(
    'GET',
    '/v1/governance/incidents',
    options.open ? { query: { status: 'open' } } : {},
  );
  if (options.json) return printJson(answer);
  if (answer.incidents.length === 0) {
    return printLine(options.open ? 'no open incidents' : 'no incidents');
  }
  printLine(incidentsTable(answer.incidents));
}

interface ResolveOptions extends RemoteOptions {
  readonly resolution: string;
}

async function resolveIncident(id: string, options: ResolveOptions): Promise<void> {
  const client = connect(options);
  const answer = await client.json<Incident>(
    'POST',
    `/v1/governance/incidents/${encodeURIComponent(id)}/resolve`,
    {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resolution: options.resolution }),
    },
  );
  if (options.json) return printJson(answer);
  printLine(`resolved incident ${answer.id} (${answer.kind}) at ${answer.resolvedAt}`);
  const mode = await client.json<ModeAnswer>('GET', '/v1/governance/mode');
  if (mode.mode !== 'normal') {
    note(`the Bucket stays ${mode.mode}: return it with bucket mode set normal --reason "…"`);
  }
}

export function registerModes(program: Command): void {
  const mode = program
    .command('mode')
    .description(
      "Show the Bucket's mode (normal, read_only, halted; any key), or switch it (owner key).",
    );
  remoteOptions(mode)
    .addHelpText(
      'after',
      examples(
        'bucket mode',
        'bucket mode set read_only --reason "disk replaced, checking blobs"',
        'bucket mode set halted --reason "suspected compromise"',
        'bucket mode set normal --reason "checked: incident inc_0123 resolved"',
      ),
    )
    .action(showMode);
  const set = mode
    .command('set')
    .description(
      'Switch the mode (owner key). read_only refuses writes, tombstones and restores; halted ' +
        'refuses everything but health, metrics, the mode, incidents and audit reads. Works ' +
        'even while the policy or the gate is broken.',
    )
    .addArgument(new Argument('<mode>', 'the mode to switch to').choices(MODES));
  remoteOptions(set.requiredOption('--reason <text>', 'why (recorded in the audit log)'))
    .addHelpText('after', examples('bucket mode set read_only --reason "disk check"'))
    .action(setMode);

  const incidents = program
    .command('incidents')
    .description('List incidents (owner, executor, auditor key) or resolve one (owner key).');
  const list = incidents.command('list', { isDefault: true }).description('List incidents.');
  remoteOptions(list.option('--open', 'only the open ones'))
    .addHelpText('after', examples('bucket incidents', 'bucket incidents list --open --json'))
    .action(listIncidents);
  const resolve = incidents
    .command('resolve')
    .description(
      'Resolve an open incident (owner key). The mode stays as it is: switch back with ' +
        '`bucket mode set normal`.',
    )
    .argument('<id>', 'the incident id (from `bucket incidents`)');
  remoteOptions(resolve.requiredOption('--resolution <text>', 'what was found and done'))
    .addHelpText(
      'after',
      examples('bucket incidents resolve inc_0123456789abcdef --resolution "blob restored"'),
    )
    .action(resolveIncident);
}
