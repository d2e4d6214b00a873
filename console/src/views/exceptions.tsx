/** Time-boxed policy exceptions (SPEC §9): requested by a product key or the owner, decided by the owner. */
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { Identity } from '../identity';
import { can } from '../rights';
import { Alert, ErrorText, Note, Panel, useAct, useLoad, when } from '../ui';

interface Exception {
  id: string;
  status: string;
  title: string;
  justification: string;
  product: string | null;
  requestedBy: string;
  requestedAt: string;
  expiresAt: string | null;
}

export function ExceptionsPanel(props: { identity: Identity }) {
  const { identity } = props;
  const list = useLoad(
    can(identity, 'exceptions.list')
      ? () => api<{ exceptions: Exception[] }>('/v1/governance/exceptions')
      : null,
    [],
  );
  const [title, setTitle] = useState('');
  const [justification, setJustification] = useState('');
  const [patch, setPatch] = useState('[]');
  const [minutes, setMinutes] = useState('60');
  const [decision, setDecision] = useState('');
  const [error, act] = useAct();
  if (!can(identity, 'exceptions.list'))
    return (
      <Panel title="Exceptions">
        <Note>Your key’s kind does not read exceptions.</Note>
      </Panel>
    );
  const decide = (id: string, verb: 'approve' | 'reject') =>
    act(
      () =>
        api(`/v1/governance/exceptions/${id}/${verb}`, {
          method: 'POST',
          body: { reason: decision },
        }),
      list.reload,
    );
  return (
    <Panel title="Exceptions">
      <ErrorText error={list.error} />
      {list.value?.exceptions.length === 0 && <Note>No exceptions.</Note>}
      <ul>
        {list.value?.exceptions.map((x) => (
          <li key={x.id}>
            <strong>{x.status}</strong> {x.title} ({x.product ?? 'bucket'}) requested{' '}
            {when(x.requestedAt)} by {x.requestedBy}
            {x.expiresAt && `, expires ${when(x.expiresAt)}`}
            {x.status === 'pending' && can(identity, 'exceptions.approve') && (
              <>
                {' '}
                <button
                  type="button"
                  disabled={decision === ''}
                  onClick={() => decide(x.id, 'approve')}
                >
                  Approve {x.title}
                </button>{' '}
                <button
                  type="button"
                  disabled={decision === ''}
                  onClick={() => decide(x.id, 'reject')}
                >
                  Reject {x.title}
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      {can(identity, 'exceptions.approve') && (
        <div class="field wide">
          <label for="exc-decision">Decision reason</label>
          <input
            id="exc-decision"
            value={decision}
            onInput={(e) => setDecision(e.currentTarget.value)}
          />
        </div>
      )}
      {can(identity, 'exceptions.request') && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void act(() => {
              const parsed: unknown = JSON.parse(patch);
              return api('/v1/governance/exceptions', {
                method: 'POST',
                body: { title, justification, patch: parsed, durationMinutes: Number(minutes) },
              });
            }, list.reload);
          }}
        >
          <h3>Request an exception</h3>
          <div class="filters">
            <div class="field">
              <label for="exc-title">Title</label>
              <input
                id="exc-title"
                required
                value={title}
                onInput={(e) => setTitle(e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label for="exc-minutes">Duration (minutes)</label>
              <input
                id="exc-minutes"
                type="number"
                min={1}
                required
                value={minutes}
                onInput={(e) => setMinutes(e.currentTarget.value)}
              />
            </div>
          </div>
          <label for="exc-justification">Justification</label>
          <textarea
            id="exc-justification"
            required
            rows={3}
            value={justification}
            onInput={(e) => setJustification(e.currentTarget.value)}
          />
          <label for="exc-patch">Patch (RFC 6902 JSON)</label>
          <textarea
            id="exc-patch"
            required
            rows={4}
            spellcheck={false}
            value={patch}
            onInput={(e) => setPatch(e.currentTarget.value)}
          />
          <button type="submit">Request exception</button>
        </form>
      )}
      <Alert text={error} />
    </Panel>
  );
}
