/** The one SHA-256 of the tests: hex, as the API's `sha256` fields and ETags carry it. */
import { createHash } from 'node:crypto';

export const sha256 = (data: Buffer | string): string =>
  createHash('sha256').update(data).digest('hex');
