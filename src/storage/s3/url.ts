/**
 * The pinned blob URL of the scale-out configuration (SPEC §12):
 * `s3://<bucket>?endpoint=…&region=…&forcePathStyle=true`, with an optional `prefix=` under which
 * every key lives. Credentials never appear in it: they come from the standard AWS environment.
 */

export interface S3Location {
  readonly bucket: string;
  /** The S3-compatible endpoint; undefined for AWS itself. */
  readonly endpoint: string | undefined;
  /** Undefined lets the SDK's default chain (AWS_REGION, profile) decide. */
  readonly region: string | undefined;
  readonly forcePathStyle: boolean;
  /** Empty, or ends with `/`. */
  readonly prefix: string;
}

const KNOWN_PARAMETERS = new Set(['endpoint', 'region', 'forcePathStyle', 'prefix']);

export function parseS3Url(url: string): S3Location {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('blob URL is not a URL: expected s3://<bucket>?endpoint=…&region=…');
  }
  if (parsed.protocol !== 's3:')
    throw new Error(`blob URL scheme must be s3:, not ${parsed.protocol}`);
  if (parsed.username || parsed.password) {
    throw new Error('blob URL must not carry credentials: use the standard AWS environment');
  }
  const bucket = decodeURIComponent(parsed.hostname);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`blob URL names an invalid S3 bucket: "${bucket}"`);
  }
  if (parsed.pathname !== '' && parsed.pathname !== '/') {
    throw new Error('blob URL takes no path: use prefix= for a key prefix');
  }
  for (const name of parsed.searchParams.keys()) {
    if (!KNOWN_PARAMETERS.has(name)) throw new Error(`blob URL has an unknown parameter: ${name}`);
  }
  const forcePathStyle = parsed.searchParams.get('forcePathStyle') ?? 'false';
  if (forcePathStyle !== 'true' && forcePathStyle !== 'false') {
    throw new Error('blob URL forcePathStyle must be true or false');
  }
  const endpoint = parsed.searchParams.get('endpoint') || undefined;
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) {
    throw new Error('blob URL endpoint must be an http:// or https:// URL');
  }
  const rawPrefix = (parsed.searchParams.get('prefix') ?? '').replace(/^\/+/, '');
  return {
    bucket,
    endpoint,
    region: parsed.searchParams.get('region') || undefined,
    forcePathStyle: forcePathStyle === 'true',
    prefix: rawPrefix === '' || rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`,
  };
}
