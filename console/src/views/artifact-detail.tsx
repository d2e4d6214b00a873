/** One artifact: versions, download, tombstone, restore and the legal holds that cover it. */
import { useState } from 'preact/hooks';
import { api, artifactPath, call, describeError } from '../api';
import type { Identity } from '../identity';
import { can, canReadContent } from '../rights';
import { bytes, ErrorText, Note, Panel, useLoad, when } from '../ui';

interface Version {
  version: number;
  sha256: string;
  size: number;
  createdAt: string;
  createdBy: string;
  tombstone: boolean;
  /** SPEC §8: present when the content is gone (its reads answer 410 content_purged). */
  purged?: PurgeRecord;
}
export interface PurgeRecord {
  at: string;
  reason: string;
  auditIndex: number;
}

/** What the State column says of a version: live, tombstone, or purged with why and when. */
export function versionState(v: { tombstone?: boolean; purged?: PurgeRecord }): string {
  if (v.purged) {
    const why = v.purged.reason.replaceAll('_', ' ');
    return `content purged (${why}) ${when(v.purged.at)}, audit entry ${v.purged.auditIndex}`;
  }
  return v.tombstone ? 'tombstone' : 'live';
}
export interface Hold {
  id: string;
  scope: { product?: string; class?: string; prefix?: string; subject?: string };
  caseRef: string;
  reason: string;
  placedAt: string;
  liftedAt: string | null;
}

async function download(path: string, version: number, fileName: string): Promise<void> {
  const answer = await call(`${path}?version=${version}`);
  const url = URL.createObjectURL(await answer.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ArtifactDetail(props: {
  identity: Identity;
  product: string;
  cls: string;
  name: string;
  onChange: () => void;
}) {
  const { identity, product, cls, name } = props;
  const path = artifactPath(product, cls, name);
  const versions = useLoad(() => api<{ versions: Version[] }>(`${path}/versions`), [path]);
  const holds = useLoad(
    can(identity, 'holds.read')
      ? () => api<{ holds: Hold[] }>('/v1/governance/holds?active=true')
      : null,
    [path],
  );
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [caseRef, setCaseRef] = useState('');
  const [reason, setReason] = useState('');
  const act = async (what: string, run: () => Promise<unknown>) => {
    setError(null);
    setMessage(null);
    try {
      await run();
      setMessage(what);
      versions.reload();
      holds.reload();
      props.onChange();
    } catch (failed) {
      setError(describeError(failed));
    }
  };
  const list = versions.value?.versions ?? [];
  const latest = list[list.length - 1];
  const inNamespace = identity.product === product;
  const covering = (holds.value?.holds ?? []).filter(
    (hold) =>
      hold.scope.product === product &&
      (!hold.scope.class || hold.scope.class === cls) &&
      (!hold.scope.prefix || name.startsWith(hold.scope.prefix)),
  );
  const fileName = name.split('/').pop() ?? name;
  return (
    <Panel title={`Artifact ${cls}/${name}`}>
      <ErrorText error={versions.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Size</th>
            <th scope="col">SHA-256</th>
            <th scope="col">Created</th>
            <th scope="col">State</th>
            <th scope="col">Content</th>
          </tr>
        </thead>
        <tbody>
          {list.map((v) => (
            <tr key={v.version}>
              <td>{v.version}</td>
              <td>{bytes(v.size)}</td>
              <td>
                <code class="hash">{v.sha256}</code>
              </td>
              <td>
                {when(v.createdAt)} by {v.createdBy}
              </td>
              <td>{versionState(v)}</td>
              <td>
                {canReadContent(identity) && !v.tombstone && !v.purged ? (
                  <button
                    type="button"
                    onClick={() =>
                      act(`Downloaded version ${v.version}`, () =>
                        download(path, v.version, fileName),
                      )
                    }
                  >
                    Download version {v.version}
                  </button>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="actions">
        {inNamespace && can(identity, 'artifact.delete') && latest && !latest.tombstone && (
          <button
            type="button"
            onClick={() => act('Tombstoned', () => call(path, { method: 'DELETE' }))}
          >
            Tombstone
          </button>
        )}
        {(inNamespace || identity.kind === 'owner') &&
          can(identity, 'artifact.restore') &&
          latest?.tombstone && (
            <button
              type="button"
              onClick={() => act('Restored', () => call(`${path}/restore`, { method: 'POST' }))}
            >
              Restore
            </button>
          )}
      </div>
      <h3>Legal holds</h3>
      {!can(identity, 'holds.read') && <Note>Your key’s kind does not read legal holds.</Note>}
      <ErrorText error={holds.error} />
      {holds.value && covering.length === 0 && <Note>No active hold covers this artifact.</Note>}
      <ul>
        {covering.map((hold) => (
          <li key={hold.id}>
            Hold <code>{hold.id}</code> ({hold.caseRef}): {hold.reason}, since {when(hold.placedAt)}
          </li>
        ))}
      </ul>
      {can(identity, 'holds.place') && (
        <form
          class="filters"
          onSubmit={(event) => {
            event.preventDefault();
            void act('Hold placed', () =>
              api('/v1/governance/holds', {
                method: 'POST',
                body: { scope: { product, class: cls, prefix: name }, caseRef, reason },
              }),
            );
          }}
        >
          <div class="field">
            <label for="hold-case">Case reference</label>
            <input
              id="hold-case"
              required
              value={caseRef}
              onInput={(e) => setCaseRef(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="hold-reason">Hold reason</label>
            <input
              id="hold-reason"
              required
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
          </div>
          <button type="submit">Place hold</button>
        </form>
      )}
      <div role="status">{message}</div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </Panel>
  );
}
