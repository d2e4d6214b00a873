/** Artifacts (SPEC §14): product → class → names, then one artifact's versions and actions. */
import { useState } from 'preact/hooks';
import { api, query } from '../api';
import type { Identity } from '../identity';
import { livePolicy } from '../policy-data';
import { can } from '../rights';
import { bytes, ErrorText, Note, Panel, useLoad, View, when } from '../ui';
import { ArtifactDetail, type PurgeRecord } from './artifact-detail';
import { UploadForm } from './artifact-upload';

interface Item {
  class: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  updatedAt: string;
  purged?: PurgeRecord;
}

export function ArtifactsView(props: { identity: Identity }) {
  const { identity } = props;
  const policy = useLoad(livePolicy, []);
  const products = Object.keys(policy.value?.document.products ?? {}).filter(
    (id) => identity.product === null || id === identity.product,
  );
  const [chosen, setProduct] = useState(identity.product ?? '');
  // Until one is chosen, the first product the key sees (no effect: a choice made meanwhile stays).
  const product = chosen || products[0] || '';
  const [cls, setCls] = useState('');
  const [prefix, setPrefix] = useState('');
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [open, setOpen] = useState<{ cls: string; name: string } | null>(null);
  const listing = useLoad(
    product === ''
      ? null
      : () =>
          api<{ items: Item[]; nextCursor: string | null }>(
            `/v1/artifacts/${encodeURIComponent(product)}${query({ class: cls, prefix, limit: 100, cursor })}`,
          ),
    [product, cls, prefix, cursor],
  );
  const classes = policy.value?.document.products[product]?.allowedClasses ?? [];
  const writer = can(identity, 'artifact.write') && identity.product === product;
  return (
    <View title="Artifacts">
      <ErrorText error={policy.error} />
      <Panel title="Browse">
        <div class="filters">
          <div class="field">
            <label for="art-product">Product</label>
            <select
              id="art-product"
              value={product}
              onChange={(event) => {
                setProduct(event.currentTarget.value);
                setCls('');
                setCursor(undefined);
                setOpen(null);
              }}
            >
              {products.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="art-class">Class</label>
            <select
              id="art-class"
              value={cls}
              onChange={(event) => {
                setCls(event.currentTarget.value);
                setCursor(undefined);
              }}
            >
              <option value="">all classes</option>
              {classes.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="art-prefix">Name prefix</label>
            <input
              id="art-prefix"
              value={prefix}
              onChange={(event) => {
                setPrefix(event.currentTarget.value);
                setCursor(undefined);
              }}
            />
          </div>
          <button type="button" onClick={listing.reload}>
            Refresh
          </button>
        </div>
        <ErrorText error={listing.error} />
        {listing.value?.items.length === 0 && <Note>No artifacts here.</Note>}
        {listing.value && listing.value.items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Class</th>
                <th scope="col">Version</th>
                <th scope="col">Size</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {listing.value.items.map((item) => (
                <tr key={`${item.class}/${item.name}`}>
                  <td>
                    <button
                      type="button"
                      class="link"
                      onClick={() => setOpen({ cls: item.class, name: item.name })}
                    >
                      {item.name}
                    </button>
                  </td>
                  <td>{item.class}</td>
                  <td>
                    {item.version}
                    {item.purged && ' (content purged)'}
                  </td>
                  <td>{bytes(item.size)}</td>
                  <td>{when(item.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {listing.value?.nextCursor && (
          <button type="button" onClick={() => setCursor(listing.value?.nextCursor ?? undefined)}>
            Next page
          </button>
        )}
      </Panel>
      {open && (
        <ArtifactDetail
          identity={identity}
          product={product}
          cls={open.cls}
          name={open.name}
          onChange={listing.reload}
        />
      )}
      {writer && policy.value ? (
        <UploadForm
          product={product}
          classes={classes}
          policy={policy.value.document}
          onUploaded={(cls, name) => {
            listing.reload();
            setOpen({ cls, name });
          }}
        />
      ) : (
        <Panel title="Upload">
          <Note>Uploads are made with a product or ai_agent key of the product.</Note>
        </Panel>
      )}
    </View>
  );
}
