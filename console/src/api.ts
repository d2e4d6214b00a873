/**
 * The console's one way to the Bucket: the public API with the key as the Bearer header. The key
 * lives in sessionStorage only (SPEC §14): never localStorage, never a cookie.
 */
const STORAGE = 'bucket.key';

export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE);
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(STORAGE);
  else sessionStorage.setItem(STORAGE, key);
}

/** An answer other than 2xx, with the §3 envelope's code and message when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const key = storedKey();
  return key ? { ...extra, authorization: `Bearer ${key}` } : extra;
}

async function failure(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not the JSON envelope: the status says enough.
  }
  return new ApiError(response.status, code, message);
}

export interface CallOptions {
  readonly method?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

/** The raw answer of a call (2xx only; anything else throws ApiError). */
export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers = authHeaders(options.headers);
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body,
    signal: options.signal,
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!response.ok) throw await failure(response);
  return response;
}

export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const response = await call(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** `?a=1&b=2` from the defined values. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** An artifact's path under /v1/artifacts, each segment of the name encoded. */
export function artifactPath(product: string, cls: string, name: string): string {
  const segments = [product, cls, ...name.split('/')].map(encodeURIComponent);
  return `/v1/artifacts/${segments.join('/')}`;
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.status} ${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
