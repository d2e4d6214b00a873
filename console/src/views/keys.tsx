/** Keys, integrations and S3 credentials (SPEC §1, §4.2, §13), each for the kinds that may. */
import { useState } from 'preact/hooks';
import { api, describeError } from '../api';
import type { Identity } from '../identity';
import { can } from '../rights';
import { S3Credentials } from './s3-credentials';
import { ErrorText, Note, Panel, useLoad, View, when } from '../ui';

interface KeyView {
  id: string;
  kind: string;
  product: string | null;
  integrationId: string | null;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  status: string;
}
interface Integration {
  id: string;
  integrationType: string;
  productName: string;
  artifactClasses: string[];
  status: string;
  approvedAt: string;
}
const KINDS = ['owner', 'executor', 'auditor', 'product', 'ai_agent', 'core'];

function CreateKey(props: { onCreated: () => void }) {
  const [kind, setKind] = useState('auditor');
  const [name, setName] = useState('');
  const [product, setProduct] = useState('');
  const [integrationId, setIntegrationId] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const scoped = kind === 'product' || kind === 'ai_agent';
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const created = await api<{ key: string }>('/v1/keys', {
        method: 'POST',
        body: {
          kind,
          name,
          ...(scoped ? { product, integrationId } : {}),
        },
      });
      setSecret(created.key);
      props.onCreated();
    } catch (failed) {
      setError(describeError(failed));
    }
  };
  return (
    <form class="filters" onSubmit={submit}>
      <div class="field">
        <label for="key-kind">Kind</label>
        <select id="key-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          {KINDS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="key-name">Key name</label>
        <input
          id="key-name"
          required
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </div>
      {scoped && (
        <>
          <div class="field">
            <label for="key-product">Key product</label>
            <input
              id="key-product"
              required
              value={product}
              onInput={(e) => setProduct(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="key-integration">Integration id</label>
            <input
              id="key-integration"
              required
              value={integrationId}
              onInput={(e) => setIntegrationId(e.currentTarget.value)}
            />
          </div>
        </>
      )}
      <button type="submit">Create key</button>
      {secret && (
        <p role="status">
          New key (shown once, copy it now): <code>{secret}</code>
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function KeysView(props: { identity: Identity }) {
  const { identity } = props;
  const keys = useLoad(
    can(identity, 'keys.list') ? () => api<{ keys: KeyView[] }>('/v1/keys') : null,
    [],
  );
  const integrations = useLoad(
    can(identity, 'integrations.list')
      ? () => api<{ integrations: Integration[] }>('/v1/integrations')
      : null,
    [],
  );
  const [s3For, setS3For] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const act = async (run: () => Promise<unknown>, reload: () => void) => {
    setError(null);
    try {
      await run();
      reload();
    } catch (failed) {
      setError(describeError(failed));
    }
  };
  return (
    <View title="Keys">
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <Panel title="Keys">
        {!can(identity, 'keys.list') && <Note>Keys are managed with the owner key.</Note>}
        <ErrorText error={keys.error} />
        {keys.value && (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Kind</th>
                <th scope="col">Product</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.value.keys.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.id}</code>
                  </td>
                  <td>{k.kind}</td>
                  <td>{k.product ?? '—'}</td>
                  <td>{k.status}</td>
                  <td>{when(k.createdAt)}</td>
                  <td class="actions">
                    {k.status === 'active' && k.id !== identity.id && (
                      <button
                        type="button"
                        onClick={() =>
                          act(() => api(`/v1/keys/${k.id}`, { method: 'DELETE' }), keys.reload)
                        }
                      >
                        Revoke {k.name}
                      </button>
                    )}
                    {k.status === 'suspended' && (
                      <button
                        type="button"
                        onClick={() =>
                          act(
                            () => api(`/v1/keys/${k.id}/reinstate`, { method: 'POST' }),
                            keys.reload,
                          )
                        }
                      >
                        Reinstate {k.name}
                      </button>
                    )}
                    <button
                      type="button"
                      onClick={() => setS3For(k.id)}
                      aria-pressed={s3For === k.id}
                    >
                      S3 credentials of {k.name}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {s3For && (
          <S3Credentials
            keyId={s3For}
            keyName={keys.value?.keys.find((k) => k.id === s3For)?.name ?? s3For}
          />
        )}
        {can(identity, 'keys.create') && <CreateKey onCreated={keys.reload} />}
      </Panel>
      <Panel title="Integrations">
        {!can(identity, 'integrations.list') && (
          <Note>Integrations are read with an owner, executor or auditor key.</Note>
        )}
        <ErrorText error={integrations.error} />
        {integrations.value?.integrations.length === 0 && <Note>No integrations.</Note>}
        {integrations.value && integrations.value.integrations.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Product</th>
                <th scope="col">Type</th>
                <th scope="col">Classes</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {integrations.value.integrations.map((i) => (
                <tr key={i.id}>
                  <td>
                    <code>{i.id}</code>
                  </td>
                  <td>{i.productName}</td>
                  <td>{i.integrationType}</td>
                  <td>{i.artifactClasses.join(', ')}</td>
                  <td>
                    {i.status} {when(i.approvedAt)}
                  </td>
                  <td>
                    {i.status === 'approved' && can(identity, 'integrations.revoke') && (
                      <button
                        type="button"
                        onClick={() =>
                          act(
                            () =>
                              api(`/v1/integrations/${encodeURIComponent(i.id)}`, {
                                method: 'DELETE',
                              }),
                            integrations.reload,
                          )
                        }
                      >
                        Revoke {i.id}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
    </View>
  );
}
