/**
 * Issue 21: the workers' limiter (src/cluster/limiter.ts) — every worker's calls answered by the
 * primary's one limiter, so slots and rates are counted once for the whole Bucket, and a worker
 * that exits leaves no slot taken, and a worker whose primary is gone fails every call at once.
 * The IPC channel is played in memory (test/helpers/ipc-channel.ts); BUCKET_WORKERS is read by
 * the configuration.
 */
import { describe, expect, it } from 'vitest';
import { IpcLimiter, LimiterHost } from '../../../src/cluster/limiter.js';
import { ConfigError, configFromEnv } from '../../../src/config.js';
import { BRUTE_FORCE } from '../../../src/domain/threats.js';
import { MemoryLimiter } from '../../../src/storage/memory/limiter.js';
import { channelTo } from '../../helpers/ipc-channel.js';

describe('the workers’ limiter', () => {
  it('counts write slots once across workers and frees those of a worker that exited', async () => {
    const host = new LimiterHost(new MemoryLimiter(), 2);
    const a = new IpcLimiter(channelTo(host, 1));
    const b = new IpcLimiter(channelTo(host, 2));
    const first = await a.tryAcquireWrite(2);
    const second = await a.tryAcquireWrite(2);
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(await b.tryAcquireWrite(2)).toBeNull();
    expect(await b.writesInFlight()).toBe(2);
    first?.release();
    const third = await b.tryAcquireWrite(2);
    expect(third).not.toBeNull();
    host.forget(1); // worker 1 died holding `second`
    expect(await b.writesInFlight()).toBe(1);
    third?.release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await a.writesInFlight()).toBe(0);
  });

  it('charges both workers’ requests to one rate', async () => {
    const host = new LimiterHost(new MemoryLimiter(), 2);
    const a = new IpcLimiter(channelTo(host, 1));
    const b = new IpcLimiter(channelTo(host, 2));
    const limits = { perSecond: 10, productPerSecond: null };
    const verdicts = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).consume('read', 'p', limits)),
    );
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(10);
    expect((await a.rateUsage()).read).toBe(10);
  });
});

describe('leased rate points', () => {
  it('hold a larger rate within a lease per worker, with one message per lease', async () => {
    const host = new LimiterHost(new MemoryLimiter(), 2);
    let messages = 0;
    const counted = (id: number) => {
      const channel = channelTo(host, id);
      const send = channel.send.bind(channel);
      return Object.assign(channel, {
        send: (message: unknown) => {
          messages += 1;
          return send(message);
        },
      });
    };
    const a = new IpcLimiter(counted(1));
    const b = new IpcLimiter(counted(2));
    // 1,000 a second: windows of 100 ms and 100 points; leases of 12 (a quarter, two workers).
    const limits = { perSecond: 1000, productPerSecond: null };
    const verdicts = [];
    for (let i = 0; i < 12; i++) {
      verdicts.push(
        ...(await Promise.all([a.consume('write', 'p', limits), b.consume('write', 'p', limits)])),
      );
    }
    expect(verdicts.every((v) => v.allowed)).toBe(true);
    // One lease each: two messages for 24 requests.
    expect(messages).toBe(2);
    // The primary counted the leased points as accepted.
    expect((await a.rateUsage()).write).toBe(24);
  });

  it('asks one lease at a time: concurrent requests wait for it instead of wasting points', async () => {
    const host = new LimiterHost(new MemoryLimiter(), 2);
    const a = new IpcLimiter(channelTo(host, 1));
    const limits = { perSecond: 1000, productPerSecond: null };
    // 60 at once on one worker: 5 leases of 12, each asked after the last ran out.
    const verdicts = await Promise.all(
      Array.from({ length: 60 }, () => a.consume('write', null, limits)),
    );
    expect(verdicts.every((v) => v.allowed)).toBe(true);
    expect((await a.rateUsage()).write).toBe(60);
  });
});

describe('a worker whose primary is gone', () => {
  const limits = { perSecond: 1000, productPerSecond: null };

  it('fails the calls waiting for an answer at once, and every call after', async () => {
    const channel = channelTo(new LimiterHost(new MemoryLimiter(), 2), 1);
    const limiter = new IpcLimiter(channel);
    channel.silence(); // dying: it answers nothing more
    const waiting = [limiter.tryAcquireWrite(2), limiter.consume('write', 'p', limits)];
    await new Promise((resolve) => setImmediate(resolve)); // sent, never to be answered
    channel.disconnect();
    for (const call of waiting) await expect(call).rejects.toThrow(/primary process is gone/);
    await expect(limiter.consume('read', 'p', limits)).rejects.toThrow(/primary process is gone/);
    await expect(limiter.recordAuthFailure('127.0.0.1', BRUTE_FORCE)).rejects.toThrow(/gone/);
  });

  it('fails a call whose message the closed channel refused', async () => {
    const channel = channelTo(new LimiterHost(new MemoryLimiter(), 2), 1);
    const limiter = new IpcLimiter(channel);
    channel.cut();
    await expect(limiter.writesInFlight()).rejects.toThrow(/primary process is gone/);
  });
});

describe('BUCKET_WORKERS', () => {
  it('defaults to 1 and takes a whole number of processes', () => {
    expect(configFromEnv({}).workers).toBe(1);
    expect(configFromEnv({ BUCKET_WORKERS: '4' }).workers).toBe(4);
    expect(() => configFromEnv({ BUCKET_WORKERS: '0' })).toThrow(ConfigError);
    expect(() => configFromEnv({ BUCKET_WORKERS: 'two' })).toThrow(/BUCKET_WORKERS/);
  });

  it('is refused beside the scale-out backends, which run nodes instead', () => {
    expect(() =>
      configFromEnv({ BUCKET_WORKERS: '2', BUCKET_REDIS_URL: 'redis://127.0.0.1:6379' }),
    ).toThrow(/more nodes/);
  });
});
