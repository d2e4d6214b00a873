/** The upload form: class, name, file, and a progress bar fed by XMLHttpRequest upload events. */
import { useState } from 'preact/hooks';
import { describeError } from '../api';
import type { PolicyDocument } from '../policy-data';
import { Panel } from '../ui';
import { upload } from './upload';

export function UploadForm(props: {
  product: string;
  classes: string[];
  policy: PolicyDocument;
  onUploaded: (cls: string, name: string) => void;
}) {
  const writable = props.classes.filter((id) =>
    props.policy.classes[id]?.operations.includes('CREATE'),
  );
  const [cls, setCls] = useState(writable[0] ?? '');
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setError(null);
    setResult(null);
    setProgress({ sent: 0, total: file.size });
    const json = props.policy.classes[cls]?.content === 'json';
    try {
      const done = await upload(
        {
          product: props.product,
          cls,
          name,
          contentType: json ? 'application/json' : file.type || 'application/octet-stream',
        },
        file,
        (sent, total) => setProgress({ sent, total }),
      );
      setResult(
        `Uploaded version ${done.version} (sha256 ${done.sha256}, audit entry #${done.audit.leafIndex})`,
      );
      props.onUploaded(cls, name);
    } catch (failed) {
      setError(describeError(failed));
    }
  };
  const percent =
    progress && progress.total > 0 ? Math.round((progress.sent / progress.total) * 100) : 0;
  return (
    <Panel title="Upload">
      <form class="filters" onSubmit={submit}>
        <div class="field">
          <label for="up-class">Upload class</label>
          <select id="up-class" value={cls} onChange={(event) => setCls(event.currentTarget.value)}>
            {writable.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="up-name">Name</label>
          <input
            id="up-name"
            required
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="up-file">File</label>
          <input
            id="up-file"
            type="file"
            required
            onChange={(event) => setFile(event.currentTarget.files?.[0] ?? null)}
          />
        </div>
        <button type="submit">Upload</button>
      </form>
      {progress && (
        <div class="field">
          <label for="up-progress">Upload progress</label>
          <progress id="up-progress" max={100} value={percent}>
            {percent}%
          </progress>
          <span>{percent}%</span>
        </div>
      )}
      <div role="status">{result}</div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </Panel>
  );
}
