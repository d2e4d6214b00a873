/** Governance (SPEC §8, §9, §14): the mode, incidents, legal holds, erasures and exceptions. */
import { useState } from 'preact/hooks';
import { api, describeError } from '../api';
import type { Identity } from '../identity';
import { can } from '../rights';
import { Alert, ErrorText, Json, Note, Panel, useAct, useLoad, View, when } from '../ui';
import type { Hold } from './artifact-detail';
import { ExceptionsPanel } from './exceptions';

interface Incident {
  id: string;
  kind: string;
  status: string;
  detectedAt: string;
  evidence: Record<string, unknown>;
}

function ModePanel(props: { identity: Identity }) {
  const mode = useLoad(
    () => api<{ mode: string; since: string; reason: string; by: string }>('/v1/governance/mode'),
    [],
  );
  const [next, setNext] = useState('read_only');
  const [reason, setReason] = useState('');
  const [error, act] = useAct();
  return (
    <Panel title="Mode">
      <ErrorText error={mode.error} />
      {mode.value && (
        <p>
          The Bucket is <strong>{mode.value.mode}</strong> since {when(mode.value.since)} (
          {mode.value.by}: {mode.value.reason})
        </p>
      )}
      {can(props.identity, 'mode.set') && (
        <form
          class="filters"
          onSubmit={(event) => {
            event.preventDefault();
            void act(
              () => api('/v1/governance/mode', { method: 'POST', body: { mode: next, reason } }),
              mode.reload,
            );
          }}
        >
          <div class="field">
            <label for="mode-next">New mode</label>
            <select id="mode-next" value={next} onChange={(e) => setNext(e.currentTarget.value)}>
              <option>normal</option>
              <option>read_only</option>
              <option>halted</option>
            </select>
          </div>
          <div class="field">
            <label for="mode-reason">Mode reason</label>
            <input
              id="mode-reason"
              required
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
          </div>
          <button type="submit">Switch mode</button>
        </form>
      )}
      <Alert text={error} />
    </Panel>
  );
}

function IncidentsPanel(props: { identity: Identity }) {
  const incidents = useLoad(
    can(props.identity, 'incidents.list')
      ? () => api<{ incidents: Incident[] }>('/v1/governance/incidents')
      : null,
    [],
  );
  const [error, act] = useAct();
  if (!can(props.identity, 'incidents.list'))
    return (
      <Panel title="Incidents">
        <Note>Your key’s kind does not read incidents.</Note>
      </Panel>
    );
  return (
    <Panel title="Incidents">
      <ErrorText error={incidents.error} />
      {incidents.value?.incidents.length === 0 && <Note>No incidents.</Note>}
      <ul>
        {incidents.value?.incidents.map((i) => (
          <li key={i.id}>
            <strong>{i.status}</strong> {i.kind} <code>{i.id}</code> {when(i.detectedAt)}
            {i.status === 'open' && can(props.identity, 'incidents.resolve') && (
              <button
                type="button"
                onClick={() =>
                  act(
                    () =>
                      api(`/v1/governance/incidents/${i.id}/resolve`, {
                        method: 'POST',
                        body: { resolution: 'resolved from the console' },
                      }),
                    incidents.reload,
                  )
                }
              >
                Resolve {i.id}
              </button>
            )}
          </li>
        ))}
      </ul>
      <Alert text={error} />
    </Panel>
  );
}

function HoldsPanel(props: { identity: Identity }) {
  const holds = useLoad(
    can(props.identity, 'holds.read') ? () => api<{ holds: Hold[] }>('/v1/governance/holds') : null,
    [],
  );
  const [liftReason, setLiftReason] = useState('');
  const [error, act] = useAct();
  if (!can(props.identity, 'holds.read'))
    return (
      <Panel title="Legal holds">
        <Note>Your key’s kind does not read legal holds.</Note>
      </Panel>
    );
  return (
    <Panel title="Legal holds">
      <ErrorText error={holds.error} />
      {holds.value?.holds.length === 0 && <Note>No legal holds.</Note>}
      <ul>
        {holds.value?.holds.map((h) => (
          <li key={h.id}>
            <code>{h.id}</code> {h.caseRef}: {JSON.stringify(h.scope)} — {h.reason}{' '}
            {h.liftedAt ? `(lifted ${when(h.liftedAt)})` : `(since ${when(h.placedAt)})`}
            {!h.liftedAt && can(props.identity, 'holds.lift') && (
              <button
                type="button"
                disabled={liftReason === ''}
                onClick={() =>
                  act(
                    () =>
                      api(`/v1/governance/holds/${h.id}?reason=${encodeURIComponent(liftReason)}`, {
                        method: 'DELETE',
                      }),
                    holds.reload,
                  )
                }
              >
                Lift {h.caseRef}
              </button>
            )}
          </li>
        ))}
      </ul>
      {can(props.identity, 'holds.lift') && (
        <div class="field wide">
          <label for="lift-reason">Reason for lifting</label>
          <input
            id="lift-reason"
            value={liftReason}
            onInput={(e) => setLiftReason(e.currentTarget.value)}
          />
        </div>
      )}
      <Note>Holds on one artifact are placed from the Artifacts view.</Note>
      <Alert text={error} />
    </Panel>
  );
}

function ErasuresPanel(props: { identity: Identity }) {
  const [subject, setSubject] = useState('');
  const [reason, setReason] = useState('');
  const [lookup, setLookup] = useState('');
  const [report, setReport] = useState<unknown>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      setReport(await work());
    } catch (failed) {
      setError(describeError(failed));
    }
  };
  if (!can(props.identity, 'erasures.read'))
    return (
      <Panel title="Erasures">
        <Note>Your key’s kind does not read erasures.</Note>
      </Panel>
    );
  return (
    <Panel title="Erasures">
      {can(props.identity, 'erasures.create') && (
        <form
          class="filters"
          onSubmit={(event) => {
            event.preventDefault();
            void run(() =>
              api('/v1/governance/erasures', { method: 'POST', body: { subject, reason } }),
            );
          }}
        >
          <div class="field">
            <label for="erase-subject">Data subject</label>
            <input
              id="erase-subject"
              required
              value={subject}
              onInput={(e) => setSubject(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="erase-reason">Erasure reason</label>
            <input
              id="erase-reason"
              required
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
          </div>
          <button type="submit">Erase subject</button>
        </form>
      )}
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          void run(() => api(`/v1/governance/erasures/${encodeURIComponent(lookup)}`));
        }}
      >
        <div class="field">
          <label for="erase-id">Erasure id</label>
          <input
            id="erase-id"
            required
            value={lookup}
            onInput={(e) => setLookup(e.currentTarget.value)}
          />
        </div>
        <button type="submit">Show report</button>
      </form>
      <Alert text={error} />
      {report !== null && <Json value={report} label="Erasure report" />}
    </Panel>
  );
}

export function GovernanceView(props: { identity: Identity }) {
  return (
    <View title="Governance">
      <ModePanel identity={props.identity} />
      <IncidentsPanel identity={props.identity} />
      <HoldsPanel identity={props.identity} />
      <ErasuresPanel identity={props.identity} />
      <ExceptionsPanel identity={props.identity} />
    </View>
  );
}
