/**
 * A key's S3 credentials (SPEC §13), for the owner: listed, created (the secret shown once, here
 * only, never stored by the console) and revoked. "Not available" when the server has no such
 * route (404).
 */
import { useState } from 'preact/hooks';
import { api, describeError, type ApiError } from '../api';
import { ErrorText, Note, useLoad, when } from '../ui';

interface Credential {
  accessKeyId: string;
  createdAt: string;
  revokedAt: string | null;
}

export function S3Credentials(props: { keyId: string; keyName: string }) {
  const path = `/v1/keys/${encodeURIComponent(props.keyId)}/s3-credentials`;
  const creds = useLoad(() => api<{ credentials?: Credential[] }>(path), [props.keyId]);
  const [secret, setSecret] = useState<{ accessKeyId: string; secretAccessKey: string } | null>(
    null,
  );
  const [error, setError] = useState<string | null>(null);
  if ((creds.error as ApiError | null)?.status === 404)
    return <Note>S3 credentials: not available on this server.</Note>;
  const act = async (run: () => Promise<void>) => {
    setError(null);
    try {
      await run();
      creds.reload();
    } catch (failed) {
      setError(describeError(failed));
    }
  };
  const live = (creds.value?.credentials ?? []).filter((c) => c.revokedAt === null);
  return (
    <div>
      <ErrorText error={creds.error} />
      {creds.value && (
        <Note>S3 access keys: {live.map((c) => c.accessKeyId).join(', ') || 'none'}</Note>
      )}
      {live.length > 0 && (
        <ul aria-label={`S3 credentials of ${props.keyName}`}>
          {live.map((c) => (
            <li key={c.accessKeyId}>
              <code>{c.accessKeyId}</code>, created {when(c.createdAt)}{' '}
              <button
                type="button"
                onClick={() =>
                  act(async () => {
                    await api(`${path}/${encodeURIComponent(c.accessKeyId)}`, {
                      method: 'DELETE',
                    });
                    if (secret?.accessKeyId === c.accessKeyId) setSecret(null);
                  })
                }
              >
                Revoke S3 credential {c.accessKeyId}
              </button>
            </li>
          ))}
        </ul>
      )}
      <button
        type="button"
        onClick={() =>
          act(async () => {
            setSecret(
              await api<{ accessKeyId: string; secretAccessKey: string }>(path, {
                method: 'POST',
              }),
            );
          })
        }
      >
        Create S3 credentials for {props.keyName}
      </button>
      {secret && (
        <p role="status">
          Access key id <code>{secret.accessKeyId}</code>, secret access key{' '}
          <code>{secret.secretAccessKey}</code> — shown once: copy it now.
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
