/** Policy (SPEC §14): the live document, an editor with validation, the diff and a reason, history. */
import { useState } from 'preact/hooks';
import { api, describeError } from '../api';
import { describeChange, diff, type Change } from '../diff';
import type { Identity } from '../identity';
import { livePolicy, type LivePolicy } from '../policy-data';
import { can } from '../rights';
import { ErrorText, Json, Note, Panel, useLoad, View, when } from '../ui';

interface VersionSummary {
  version: number;
  reason: string;
  createdAt: string;
  createdBy: string;
}

/** What the editor's text must be before it is sent (the server's JSON Schema decides the rest). */
function validate(text: string): { document: Record<string, unknown> } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { problem: 'the policy document is a JSON object' };
  }
  for (const field of ['products', 'classes', 'limits']) {
    const value = (parsed as Record<string, unknown>)[field];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { problem: `/${field} must be an object` };
    }
  }
  return { document: parsed as Record<string, unknown> };
}

function ChangeList(props: { changes: Change[]; label: string }) {
  if (props.changes.length === 0) return <Note>No change.</Note>;
  return (
    <ul class="diff" aria-label={props.label}>
      {props.changes.map((change) => (
        <li key={change.path} class={`diff-${change.op}`}>
          {describeChange(change)}
        </li>
      ))}
    </ul>
  );
}

/**
 * The editor; `result` lives in the view: applying makes a new live version, which remounts the
 * editor (keyed by version), and the confirmation must survive that.
 */
function Editor(props: {
  live: LivePolicy;
  result: string | null;
  setResult: (result: string | null) => void;
  onApplied: () => void;
}) {
  const { result, setResult } = props;
  const [text, setText] = useState(JSON.stringify(props.live.document, null, 2));
  const [review, setReview] = useState<{
    document: Record<string, unknown>;
    changes: Change[];
  } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const check = () => {
    setResult(null);
    const checked = validate(text);
    if ('problem' in checked) {
      setProblem(checked.problem);
      setReview(null);
      return;
    }
    setProblem(null);
    setReview({ document: checked.document, changes: diff(props.live.document, checked.document) });
  };
  const apply = async (event: Event) => {
    event.preventDefault();
    if (!review) return;
    try {
      const answer = await api<{ version: number }>('/v1/governance/policy', {
        method: 'PUT',
        body: { document: review.document, reason },
      });
      setResult(`Applied: policy version ${answer.version}`);
      setReview(null);
      setReason('');
      props.onApplied();
    } catch (failed) {
      setProblem(describeError(failed));
    }
  };
  return (
    <Panel title="Edit">
      <label for="policy-text">Policy document (JSON)</label>
      <textarea
        id="policy-text"
        rows={18}
        spellcheck={false}
        value={text}
        onInput={(event) => {
          setText(event.currentTarget.value);
          setReview(null);
        }}
      />
      <button type="button" onClick={check}>
        Review changes
      </button>
      {problem && (
        <p class="error" role="alert">
          Invalid: {problem}
        </p>
      )}
      {review && (
        <form onSubmit={apply}>
          <h3>Diff against version {props.live.version}</h3>
          <ChangeList changes={review.changes} label="Changes to apply" />
          <div class="field wide">
            <label for="policy-reason">Reason</label>
            <input
              id="policy-reason"
              required
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
          </div>
          <button type="submit" disabled={review.changes.length === 0}>
            Apply
          </button>
        </form>
      )}
      <div role="status">{result}</div>
    </Panel>
  );
}

export function PolicyView(props: { identity: Identity }) {
  const live = useLoad(livePolicy, []);
  const versions = useLoad(
    () => api<{ versions: VersionSummary[] }>('/v1/governance/policy/versions'),
    [],
  );
  const [shown, setShown] = useState<number | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const version = useLoad(
    shown === null
      ? null
      : () =>
          api<{ diff: Change[]; previousVersion: number | null }>(
            `/v1/governance/policy/versions/${shown}`,
          ),
    [shown],
  );
  const reloadAll = () => {
    live.reload();
    versions.reload();
  };
  return (
    <View title="Policy">
      <ErrorText error={live.error} />
      {live.value && (
        <Panel title={`Live document, version ${live.value.version}`}>
          <p>
            Hash <code class="hash">{live.value.hash}</code>
          </p>
          <Json value={live.value.document} label="Live policy document" />
        </Panel>
      )}
      {live.value && can(props.identity, 'policy.update') ? (
        <Editor
          key={live.value.version}
          live={live.value}
          result={result}
          setResult={setResult}
          onApplied={reloadAll}
        />
      ) : (
        <Note>Only the owner key edits the policy.</Note>
      )}
      <Panel title="History">
        <ErrorText error={versions.error} />
        <ul>
          {[...(versions.value?.versions ?? [])].reverse().map((v) => (
            <li key={v.version}>
              <button
                type="button"
                class="link"
                onClick={() => setShown(v.version)}
                aria-pressed={shown === v.version}
              >
                Version {v.version}
              </button>{' '}
              {when(v.createdAt)} by {v.createdBy}: {v.reason}
            </li>
          ))}
        </ul>
        <ErrorText error={version.error} />
        {shown !== null && version.value && (
          <>
            <h3>
              Version {shown} against {version.value.previousVersion ?? 'nothing'}
            </h3>
            <ChangeList changes={version.value.diff} label={`Changes in version ${shown}`} />
          </>
        )}
      </Panel>
    </View>
  );
}
