/**
 * Byte ranges over S3-compatible stores, some of which answer a Range header loosely (s3rver
 * serves the whole object for `bytes=0-0`): the served part is cut down to the range asked for.
 */
import { Transform, type Readable } from 'node:stream';
import type { ByteRange } from '../ports.js';

/** The first byte a response carries, from its Content-Range (RFC 9110 §14.4); 0 without one. */
function servedStart(contentRange: string | undefined): number {
  const match = contentRange ? /^bytes (\d+)-\d+\//.exec(contentRange) : null;
  return match ? Number(match[1]) : 0;
}

export function exactRange(
  body: Readable,
  range: ByteRange,
  contentRange: string | undefined,
): Readable {
  let skip = range.start - servedStart(contentRange);
  let remaining = range.end - range.start + 1;
  if (skip < 0) throw new Error(`S3 served a range starting after byte ${range.start}`);
  const cut = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let part = chunk;
      if (skip > 0) {
        const skipped = Math.min(skip, part.length);
        part = part.subarray(skipped);
        skip -= skipped;
      }
      if (remaining > 0 && part.length > 0) {
        const kept = part.subarray(0, remaining);
        remaining -= kept.length;
        callback(null, kept);
        return;
      }
      callback();
    },
  });
  body.on('error', (error) => cut.destroy(error));
  cut.on('close', () => body.destroy());
  return body.pipe(cut);
}
