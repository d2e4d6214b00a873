/**
 * If-Range (RFC 9110 §13.1.5): a Range request made for one representation is answered with a
 * part only if that representation is still the one selected; otherwise with the whole content.
 */

/** The validators sent with the content: its strong ETag and its Last-Modified date. */
export interface Validators {
  readonly etag: string;
  readonly lastModified: string;
}

/** Whether the Range of a request carrying `ifRange` may be honoured (true without If-Range). */
export function ifRangeHolds(ifRange: string | undefined, validators: Validators): boolean {
  if (ifRange === undefined) return true;
  const condition = ifRange.trim();
  // An entity-tag is compared strongly (§8.8.3.2): a weak tag never matches.
  if (condition.startsWith('"') || condition.startsWith('W/')) return condition === validators.etag;
  // An HTTP-date holds only when it is exactly the Last-Modified value sent.
  return condition === validators.lastModified;
}
