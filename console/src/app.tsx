/** The console's shell: sign-in, the navigation landmark (pinned names, SPEC §14) and the views. */
import { useEffect, useState } from 'preact/hooks';
import { describeError, storedKey, storeKey } from './api';
import { whoAmI, type Identity } from './identity';
import { ArtifactsView } from './views/artifacts';
import { AuditView } from './views/audit';
import { EventsView } from './views/events';
import { GovernanceView } from './views/governance';
import { KeysView } from './views/keys';
import { OverviewView } from './views/overview';
import { PolicyView } from './views/policy';
import { RunsView } from './views/runs';

const VIEWS = {
  overview: { name: 'Overview', View: OverviewView },
  artifacts: { name: 'Artifacts', View: ArtifactsView },
  policy: { name: 'Policy', View: PolicyView },
  keys: { name: 'Keys', View: KeysView },
  governance: { name: 'Governance', View: GovernanceView },
  audit: { name: 'Audit', View: AuditView },
  events: { name: 'Events', View: EventsView },
  runs: { name: 'Runs', View: RunsView },
} as const;
type ViewId = keyof typeof VIEWS;

function currentView(): ViewId {
  const id = location.hash.replace(/^#\/?/, '').split('/')[0] ?? '';
  return Object.hasOwn(VIEWS, id) ? (id as ViewId) : 'overview';
}

function SignIn(props: { onSignedIn: (identity: Identity) => void; error: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(props.error);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    storeKey(key.trim());
    try {
      props.onSignedIn(await whoAmI());
    } catch (failed) {
      storeKey(null);
      setError(describeError(failed));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>BHIV Bucket console</h1>
      <form onSubmit={submit}>
        <label for="key">Key</label>
        <input
          id="key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          required
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <p class="muted">
        The key stays in this tab’s session storage and goes out only as the Bearer header.
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}

export function App() {
  const [identity, setIdentity] = useState<Identity | null>(null);
  const [restoring, setRestoring] = useState(storedKey() !== null);
  const [restoreError, setRestoreError] = useState<string | null>(null);
  const [view, setView] = useState<ViewId>(currentView());

  useEffect(() => {
    const onHash = () => setView(currentView());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (!restoring) return;
    whoAmI()
      .then(setIdentity, (failed: unknown) => {
        storeKey(null);
        setRestoreError(describeError(failed));
      })
      .finally(() => setRestoring(false));
  }, []);
  useEffect(() => {
    document.title = `${VIEWS[view].name} · BHIV Bucket console`;
  }, [view]);

  if (restoring) return <p class="muted">Signing in…</p>;
  if (identity === null) return <SignIn onSignedIn={setIdentity} error={restoreError} />;
  const { View } = VIEWS[view];
  const signOut = () => {
    storeKey(null);
    setIdentity(null);
  };
  return (
    <div class="shell">
      <header class="top">
        <span class="brand">BHIV Bucket</span>
        <span class="who">
          Signed in: <strong>{identity.kind}</strong> key <code>{identity.id}</code>
          {identity.product ? ` (${identity.product})` : ''}
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Console">
        <ul>
          {(Object.keys(VIEWS) as ViewId[]).map((id) => (
            <li key={id}>
              <a href={`#/${id}`} aria-current={id === view ? 'page' : undefined}>
                {VIEWS[id].name}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main>
        <View identity={identity} />
      </main>
    </div>
  );
}
