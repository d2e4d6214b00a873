/**
 * The audit explorer (SPEC §14): filters, an entry's canonical bytes, and the entry's inclusion in
 * the latest checkpoint and that checkpoint's consistency with the last one this browser verified,
 * all checked here against the verifier key the user pins.
 */
import { useState } from 'preact/hooks';
import { api, query } from '../api';
import type { Identity } from '../identity';
import { ErrorText, Note, Panel, useLoad, View, when } from '../ui';
import type { EntryPage, ListedEntry } from './audit-data';
import { verifyEntry, type Verdict } from './audit-verify';

const VKEY_STORE = 'bucket.vkey';

export function AuditView(_props: { identity: Identity }) {
  const [draft, setDraft] = useState({
    artifact: '',
    principal: '',
    decision: '',
    threat: '',
    since: '',
  });
  const [filters, setFilters] = useState(draft);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const page = useLoad(
    () => api<EntryPage>(`/v1/audit/entries${query({ ...filters, limit: 50, cursor })}`),
    [filters, cursor],
  );
  const [selected, setSelected] = useState<number | null>(null);
  const detail = useLoad(
    selected === null ? null : () => api<ListedEntry>(`/v1/audit/entries/${selected}`),
    [selected],
  );
  const [vkey, setVkey] = useState(localStorage.getItem(VKEY_STORE) ?? '');
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [verifying, setVerifying] = useState(false);

  const field = (name: keyof typeof draft, label: string, hint?: string) => (
    <div class="field">
      <label for={`audit-${name}`}>{label}</label>
      <input
        id={`audit-${name}`}
        value={draft[name]}
        placeholder={hint}
        onInput={(event) => setDraft({ ...draft, [name]: event.currentTarget.value })}
      />
    </div>
  );
  const verify = async () => {
    if (!detail.value) return;
    setVerifying(true);
    setVerdict(null);
    localStorage.setItem(VKEY_STORE, vkey.trim());
    setVerdict(await verifyEntry(detail.value, vkey));
    setVerifying(false);
  };
  return (
    <View title="Audit">
      <Panel title="Filters">
        <form
          class="filters"
          onSubmit={(event) => {
            event.preventDefault();
            setCursor(undefined);
            setFilters(draft);
          }}
        >
          {field('artifact', 'Artifact', 'product/class/name')}
          {field('principal', 'Principal', 'key id')}
          <div class="field">
            <label for="audit-decision">Decision</label>
            <select
              id="audit-decision"
              value={draft.decision}
              onChange={(event) => setDraft({ ...draft, decision: event.currentTarget.value })}
            >
              <option value="">any</option>
              <option value="allow">allow</option>
              <option value="deny">deny</option>
            </select>
          </div>
          {field('threat', 'Threat', 'T1 … T7')}
          {field('since', 'Since', '2026-01-01T00:00:00Z')}
          <button type="submit">Search</button>
        </form>
      </Panel>
      <Panel title="Entries">
        <ErrorText error={page.error} />
        {page.value?.entries.length === 0 && <Note>No entries match.</Note>}
        {page.value && page.value.entries.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Index</th>
                <th scope="col">Time</th>
                <th scope="col">Decision</th>
                <th scope="col">Operation</th>
                <th scope="col">Principal</th>
                <th scope="col">Target</th>
              </tr>
            </thead>
            <tbody>
              {page.value.entries.map(({ entry: e }) => (
                <tr key={e.index} class={e.index === selected ? 'selected' : ''}>
                  <td>
                    <button
                      type="button"
                      class="link"
                      aria-label={`Entry ${e.index}`}
                      aria-pressed={e.index === selected}
                      onClick={() => {
                        setSelected(e.index);
                        setVerdict(null);
                      }}
                    >
                      #{e.index}
                    </button>
                  </td>
                  <td>{when(e.time)}</td>
                  <td>
                    {e.allow ? 'allow' : 'deny'} {e.status}
                  </td>
                  <td>{e.operation}</td>
                  <td>{e.principal ? `${e.principal.kind} ${e.principal.id}` : '—'}</td>
                  <td>
                    {e.target
                      ? [e.target.product, e.target.class, e.target.name].filter(Boolean).join('/')
                      : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {page.value?.nextCursor && (
          <button type="button" onClick={() => setCursor(page.value?.nextCursor ?? undefined)}>
            Next page
          </button>
        )}
      </Panel>
      <Panel title="Entry and proofs">
        {selected === null && (
          <Note>Select an entry to see its canonical bytes and verify it.</Note>
        )}
        <ErrorText error={detail.error} />
        {detail.value && (
          <>
            <p>
              Entry #{detail.value.entry.index}, leaf hash <code>{detail.value.leafHash}</code>
            </p>
            <h3>Canonical bytes (RFC 8785)</h3>
            <pre class="json" tabIndex={0} role="region" aria-label="Canonical bytes">
              {detail.value.canonical}
            </pre>
            <div class="field wide">
              <label for="vkey">Verifier key</label>
              <input
                id="vkey"
                value={vkey}
                spellcheck={false}
                placeholder="name+1234abcd+AQ…"
                onInput={(event) => setVkey(event.currentTarget.value)}
              />
            </div>
            <p class="muted">
              Paste the verifier key (vkey) you trust: from your records, or the Bucket’s
              /v1/audit/public-key read once over a channel you trust. Every check runs here against
              it; nothing the server answers now replaces it.
            </p>
            <button type="button" onClick={verify} disabled={verifying || vkey.trim() === ''}>
              Verify
            </button>
            <div role="status" aria-live="polite" class="verdict">
              {verifying && 'Verifying…'}
              {verdict?.ok === true && (
                <>
                  <strong class="ok">Verified</strong>
                  <ul>
                    {verdict.steps.map((step) => (
                      <li key={step}>{step}</li>
                    ))}
                  </ul>
                </>
              )}
              {verdict?.ok === false && (
                <>
                  <strong class="bad">Verification failed</strong>: {verdict.reason}
                </>
              )}
            </div>
          </>
        )}
      </Panel>
    </View>
  );
}
