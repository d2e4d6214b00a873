import { describe, expect, it } from 'vitest';
import { BucketError } from '../../../src/domain/errors.js';

describe('BucketError stacks', () => {
  it('keeps the stack of a server fault, for the operator who debugs it', () => {
    const error = new BucketError('storage_unavailable');
    expect(error.status).toBe(503);
    expect(error.stack?.split('\n').length).toBeGreaterThan(1);
  });

  it('captures none for a refusal, and leaves every other error its stack', () => {
    const before = Error.stackTraceLimit;
    const refusal = new BucketError('rate_limited');
    expect(refusal.status).toBe(429);
    expect(refusal.stack).toBe(`BucketError: ${refusal.message}`);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('later').stack?.split('\n').length).toBeGreaterThan(1);
  });

  it('captures none for a shed request or a mode’s refusal either (503s that are no fault)', () => {
    for (const code of ['overloaded', 'server_stopping', 'bucket_read_only'] as const) {
      const error = new BucketError(code);
      expect(error.status).toBe(503);
      expect(error.stack).toBe(`BucketError: ${error.message}`);
    }
  });

  it('follows an explicit status over its code’s', () => {
    expect(
      new BucketError('forbidden', 'x', { status: 500 }).stack?.split('\n').length,
    ).toBeGreaterThan(1);
  });
});
