/** Overview (SPEC §14): health, the mode as text, limits as gauges, threats, denials, incidents. */
import { api } from '../api';
import type { Identity } from '../identity';
import { can } from '../rights';
import { bytes, ErrorText, Note, Panel, useLoad, View, when } from '../ui';
import { auditTail, type AuditEntry } from './audit-data';

interface Health {
  status: string;
  version: string;
  governance: { gate: string; policyVersion: number; mode: string };
  backends: Record<string, { kind: string; ok: boolean; latencyMs: number }>;
  audit: { size: number; lastCheckpointAt: string | null };
}
interface ScaleLimits {
  limits: Record<string, number>;
  usage: {
    concurrentWrites: number;
    writesPerSecond: number;
    readsPerSecond: number;
    artifacts: number;
    bytes: number;
    products: Record<
      string,
      { bytes: number; quotaBytes: number; artifacts: number; maxArtifacts: number }
    >;
  };
}
interface Threats {
  threats: { id: string; name: string; severity: string; detections: number; last24h: number }[];
  suspendedKeys: { keyId: string; suspendedAt: string; reason: string }[];
}
interface Incident {
  id: string;
  kind: string;
  status: string;
  detectedAt: string;
}

/** A labelled <meter>: what a screen reader announces as "label, value". */
function Gauge(props: { label: string; value: number; max: number; text: string }) {
  const id = `gauge-${props.label.replace(/[^A-Za-z0-9]+/g, '-')}`;
  return (
    <div class="gauge">
      <label for={id}>{props.label}</label>
      <meter
        id={id}
        min={0}
        max={Math.max(props.max, 1)}
        value={props.value}
        high={props.max * 0.8}
      >
        {props.text}
      </meter>
      <span class="muted">{props.text}</span>
    </div>
  );
}

function fetchHealth(): Promise<Health> {
  // 503 still carries the document (unhealthy, halted).
  return fetch('/health', { cache: 'no-store' }).then((r) => r.json() as Promise<Health>);
}

export function OverviewView(props: { identity: Identity }) {
  const { identity } = props;
  const health = useLoad(fetchHealth, []);
  const mode = useLoad(
    () => api<{ mode: string; since: string; reason: string }>('/v1/governance/mode'),
    [],
  );
  const limits = useLoad(
    can(identity, 'gate.read') ? () => api<ScaleLimits>('/governance/gate/scale-limits') : null,
    [],
  );
  const threats = useLoad(
    can(identity, 'threats.read') ? () => api<Threats>('/v1/governance/threats') : null,
    [],
  );
  const incidents = useLoad(
    can(identity, 'incidents.list')
      ? () => api<{ incidents: Incident[] }>('/v1/governance/incidents?status=open')
      : null,
    [],
  );
  const denials = useLoad(() => auditTail({ decision: 'deny' }, 10), []);
  const h = health.value;
  const u = limits.value?.usage;
  const l = limits.value?.limits;
  return (
    <View title="Overview">
      <div class="grid">
        <Panel title="Health">
          <ErrorText error={health.error} />
          {h && (
            <dl>
              <dt>Status</dt>
              <dd>{h.status}</dd>
              <dt>Mode</dt>
              <dd>
                <strong class={`mode mode-${mode.value?.mode ?? h.governance.mode}`}>
                  {mode.value?.mode ?? h.governance.mode}
                </strong>
                {mode.value &&
                  mode.value.mode !== 'normal' &&
                  ` since ${when(mode.value.since)}: ${mode.value.reason}`}
              </dd>
              <dt>Gate</dt>
              <dd>{h.governance.gate}</dd>
              <dt>Policy version</dt>
              <dd>{h.governance.policyVersion}</dd>
              <dt>Version</dt>
              <dd>{h.version}</dd>
              <dt>Audit log</dt>
              <dd>
                {h.audit.size} entries, last checkpoint {when(h.audit.lastCheckpointAt)}
              </dd>
              {Object.entries(h.backends).map(([name, backend]) => (
                <>
                  <dt>{name}</dt>
                  <dd>
                    {backend.kind}: {backend.ok ? 'ok' : 'failing'} ({backend.latencyMs} ms)
                  </dd>
                </>
              ))}
            </dl>
          )}
        </Panel>
        <Panel title="Limits">
          {limits.value === null && !limits.error && (
            <Note>Your key’s kind does not read the limits.</Note>
          )}
          <ErrorText error={limits.error} />
          {u && l && (
            <>
              <Gauge
                label="Concurrent writes"
                value={u.concurrentWrites}
                max={l['concurrentWrites'] ?? 0}
                text={`${u.concurrentWrites} of ${l['concurrentWrites']}`}
              />
              <Gauge
                label="Writes per second"
                value={u.writesPerSecond}
                max={l['writesPerSecond'] ?? 0}
                text={`${u.writesPerSecond} of ${l['writesPerSecond']}`}
              />
              <Gauge
                label="Reads per second"
                value={u.readsPerSecond}
                max={l['readsPerSecond'] ?? 0}
                text={`${u.readsPerSecond} of ${l['readsPerSecond']}`}
              />
              <Gauge
                label="Storage"
                value={u.bytes}
                max={l['storageCapacityBytes'] ?? 0}
                text={`${bytes(u.bytes)} of ${bytes(l['storageCapacityBytes'] ?? 0)}`}
              />
              {Object.entries(u.products).map(([id, p]) => (
                <Gauge
                  key={id}
                  label={`${id} quota`}
                  value={p.bytes}
                  max={p.quotaBytes}
                  text={`${bytes(p.bytes)} of ${bytes(p.quotaBytes)}, ${p.artifacts} artifacts`}
                />
              ))}
            </>
          )}
        </Panel>
        <Panel title="Threats">
          {!can(identity, 'threats.read') && (
            <Note>Your key’s kind does not read threat counts.</Note>
          )}
          <ErrorText error={threats.error} />
          {threats.value && (
            <table>
              <caption class="sr-only">Threat counts</caption>
              <thead>
                <tr>
                  <th scope="col">Threat</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Last 24 h</th>
                  <th scope="col">All time</th>
                </tr>
              </thead>
              <tbody>
                {threats.value.threats.map((t) => (
                  <tr key={t.id}>
                    <td>
                      {t.id} {t.name}
                    </td>
                    <td>{t.severity}</td>
                    <td>{t.last24h}</td>
                    <td>{t.detections}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {threats.value && threats.value.suspendedKeys.length > 0 && (
            <p>Suspended keys: {threats.value.suspendedKeys.map((k) => k.keyId).join(', ')}</p>
          )}
        </Panel>
        <Panel title="Recent denials">
          <ErrorText error={denials.error} />
          {denials.value?.length === 0 && <Note>No denials among the latest entries.</Note>}
          {denials.value && denials.value.length > 0 && <DenialList entries={denials.value} />}
        </Panel>
        <Panel title="Open incidents">
          {!can(identity, 'incidents.list') && (
            <Note>Your key’s kind does not read incidents.</Note>
          )}
          <ErrorText error={incidents.error} />
          {incidents.value?.incidents.length === 0 && <Note>No open incidents.</Note>}
          <ul>
            {incidents.value?.incidents.map((i) => (
              <li key={i.id}>
                {i.kind} <code>{i.id}</code> detected {when(i.detectedAt)}
              </li>
            ))}
          </ul>
        </Panel>
      </div>
    </View>
  );
}

function DenialList(props: { entries: AuditEntry[] }) {
  return (
    <ul>
      {props.entries.map((e) => (
        <li key={e.index}>
          #{e.index} {when(e.time)} {e.status} {e.operation}{' '}
          {e.target ? `${e.target.product}/${e.target.class ?? ''}/${e.target.name ?? ''}` : ''} by{' '}
          {e.principal?.kind ?? '?'}: {e.reasons?.[0]?.message ?? e.threats?.[0]?.name ?? ''}
        </li>
      ))}
    </ul>
  );
}
