/** Runs (SPEC §11, §14): start a basket run, follow its steps live, open its outputs. */
import { useEffect, useState } from 'preact/hooks';
import { api, artifactPath, describeError } from '../api';
import type { Identity } from '../identity';
import { can, canReadContent } from '../rights';
import { Alert, ErrorText, Json, Note, Panel, useLoad, View, when } from '../ui';

interface Basket {
  name: string;
  description: string;
  strategy: string;
  agents: string[];
  products: string[];
}
interface Step {
  agent: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  output?: unknown;
  error?: { code: string; message: string };
  artifact?: { product: string; class: string; name: string; version: number };
}
interface Run {
  id: string;
  basket?: string;
  agent?: string;
  status: string;
  input?: unknown;
  output?: unknown;
  error?: { code: string; message: string };
  steps?: Step[];
  createdAt?: string;
}
const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);
const EXAMPLE = '{"transactions":[{"amount":100},{"amount":-50}]}';

function RunDetail(props: { id: string; identity: Identity; onFinished: () => void }) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [opened, setOpened] = useState<{ name: string; value: unknown } | null>(null);
  useEffect(() => {
    let live = true;
    const poll = async () => {
      while (live) {
        try {
          const found = await api<Run>(`/v1/runs/${encodeURIComponent(props.id)}`);
          if (!live) return;
          setRun(found);
          if (FINISHED.has(found.status)) {
            props.onFinished();
            return;
          }
        } catch (failed) {
          setError(failed);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    };
    void poll();
    return () => {
      live = false;
    };
  }, [props.id]);
  const open = async (step: Step) => {
    if (!step.artifact) return;
    const { product, class: cls, name, version } = step.artifact;
    try {
      const value = await api<unknown>(`${artifactPath(product, cls, name)}?version=${version}`);
      setOpened({ name, value });
    } catch (failed) {
      setError(failed);
    }
  };
  const readsCore =
    canReadContent(props.identity) &&
    (props.identity.product === null || props.identity.product === 'core');
  return (
    <Panel title={`Run ${props.id}`}>
      <ErrorText error={error} />
      {run && (
        <>
          <p role="status">
            Run status: <strong>{run.status}</strong>
            {run.error && ` — ${run.error.code}: ${run.error.message}`}
          </p>
          <ol class="steps">
            {(run.steps ?? []).map((step, n) => (
              <li key={`${n}-${step.agent}`}>
                Step {n + 1} <strong>{step.agent}</strong>: {step.status}
                {step.finishedAt && ` at ${when(step.finishedAt)}`}
                {step.error && ` — ${step.error.message}`}
                {step.artifact && readsCore && (
                  <>
                    {' '}
                    <button type="button" onClick={() => open(step)}>
                      Open output of {step.agent}
                    </button>
                  </>
                )}
              </li>
            ))}
          </ol>
          {run.output !== undefined && <Json value={run.output} label="Run output" />}
          {opened && (
            <>
              <h3>{opened.name}</h3>
              <Json value={opened.value} label={`Output ${opened.name}`} />
            </>
          )}
        </>
      )}
    </Panel>
  );
}

export function RunsView(props: { identity: Identity }) {
  const { identity } = props;
  const runner = can(identity, 'runs.read');
  const baskets = useLoad(() => api<{ baskets: Basket[] }>('/v1/baskets'), []);
  const runs = useLoad(runner ? () => api<{ runs: Run[] }>('/v1/runs?limit=20') : null, []);
  const [basket, setBasket] = useState('');
  const [input, setInput] = useState(EXAMPLE);
  const [current, setCurrent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mine = (baskets.value?.baskets ?? []).filter(
    (b) =>
      identity.product === null ||
      identity.kind === 'core' ||
      b.products.includes(identity.product),
  );
  const chosen = basket || mine[0]?.name || '';
  const start = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const parsed: unknown = JSON.parse(input);
      const run = await api<Run>(`/v1/baskets/${encodeURIComponent(chosen)}/runs`, {
        method: 'POST',
        body: { input: parsed },
      });
      setCurrent(run.id);
      runs.reload();
    } catch (failed) {
      setError(describeError(failed));
    }
  };
  return (
    <View title="Runs">
      {!runner && <Note>Your key’s kind does not start or read runs.</Note>}
      {runner && (
        <Panel title="Start a basket run">
          <ErrorText error={baskets.error} />
          <form onSubmit={start}>
            <div class="field">
              <label for="run-basket">Basket</label>
              <select
                id="run-basket"
                value={chosen}
                onChange={(e) => setBasket(e.currentTarget.value)}
              >
                {mine.map((b) => (
                  <option key={b.name} value={b.name}>
                    {b.name} ({b.strategy}: {b.agents.join(', ')})
                  </option>
                ))}
              </select>
            </div>
            <label for="run-input">Input (JSON)</label>
            <textarea
              id="run-input"
              rows={4}
              spellcheck={false}
              value={input}
              onInput={(e) => setInput(e.currentTarget.value)}
            />
            <button type="submit" disabled={chosen === ''}>
              Start run
            </button>
          </form>
          <Alert text={error} />
        </Panel>
      )}
      {current && (
        <RunDetail key={current} id={current} identity={identity} onFinished={runs.reload} />
      )}
      {runner && (
        <Panel title="Recent runs">
          <ErrorText error={runs.error} />
          {runs.value?.runs.length === 0 && <Note>No runs yet.</Note>}
          <ul>
            {runs.value?.runs.map((r) => (
              <li key={r.id}>
                <button type="button" class="link" onClick={() => setCurrent(r.id)}>
                  {r.id}
                </button>{' '}
                {r.basket ?? r.agent}: {r.status} {when(r.createdAt)}
              </li>
            ))}
          </ul>
        </Panel>
      )}
      <Panel title="Baskets">
        <ul>
          {(baskets.value?.baskets ?? []).map((b) => (
            <li key={b.name}>
              <strong>{b.name}</strong> ({b.strategy}): {b.description} — products{' '}
              {b.products.join(', ') || 'none'}
            </li>
          ))}
        </ul>
      </Panel>
    </View>
  );
}
