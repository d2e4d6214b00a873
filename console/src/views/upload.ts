/**
 * An upload with progress: fetch() reports no upload progress, XMLHttpRequest does. The body is
 * the file itself (streamed by the browser), the key the Bearer header.
 */
import { ApiError, artifactPath, authHeaders } from '../api';

export interface Uploaded {
  version: number;
  sha256: string;
  size: number;
  audit: { leafIndex: number; leafHash: string };
}

export function upload(
  target: { product: string; cls: string; name: string; contentType: string },
  file: Blob,
  onProgress: (sent: number, total: number) => void,
): Promise<Uploaded> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', artifactPath(target.product, target.cls, target.name));
    for (const [name, value] of Object.entries(
      authHeaders({ 'content-type': target.contentType }),
    )) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) =>
      onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onerror = () => reject(new Error('the upload failed (network)'));
    xhr.onload = () => {
      let body: { error?: { code: string; message: string } } & Partial<Uploaded> = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // Not JSON: the status says enough.
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve(body as Uploaded);
      } else {
        reject(
          new ApiError(
            xhr.status,
            body.error?.code ?? `http_${xhr.status}`,
            body.error?.message ?? xhr.statusText,
          ),
        );
      }
    };
    xhr.send(file);
  });
}
