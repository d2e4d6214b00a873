/**
 * The Lua scripts of the Redis limiter. Each runs atomically on the server and reads the server's
 * clock (`TIME`), so that expiries and windows mean the same on every node whatever their clocks.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

const NOW_MS = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/** A script run by its SHA-1, loaded on first use (and again after a server restart). */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * rate-limiter-flexible's counter with a millisecond expiry: KEYS[1] the window's key; ARGV points,
 * window ms. Answers { consumed, ms until the window ends }.
 */
export const INCREMENT_WINDOW =
  new LuaScript(`local consumed = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {consumed, ttl}`);

/**
 * Write slots: sorted sets of slot ids scored by their expiry. KEYS[1] the Bucket's set, KEYS[2]
 * (optional) the product's; ARGV max, ttl ms, slot id, the product's max. Expired slots (their
 * node died) are dropped first. Answers 1 when acquired (in both sets), else 0.
 */
export const ACQUIRE_SLOT = new LuaScript(`${NOW_MS}
for k = 1, #KEYS do redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', now) end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
if #KEYS > 1 and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 0 end
for k = 1, #KEYS do
  redis.call('ZADD', KEYS[k], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[k], ARGV[2])
end
return 1`);

/** Extends the expiry of the live slots among ARGV[2..] to now + ARGV[1] ms. */
export const REFRESH_SLOTS = new LuaScript(`${NOW_MS}
local expiry = now + tonumber(ARGV[1])
local live = 0
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) > now then
    redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i])
    live = live + 1
  end
end
if live > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return live`);

/** The number of unexpired slots in KEYS[1]. */
export const COUNT_SLOTS = new LuaScript(`${NOW_MS}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`);

/** Slots of this length count accepted requests; ten of them make the last second. */
export const USAGE_SLOT_MS = 100;

/** Adds ARGV[k] accepted requests to the current 100 ms slot of KEYS[k] (a key prefix). */
export const COUNT_ACCEPTED = new LuaScript(`${NOW_MS}
local slot = math.floor(now / ${USAGE_SLOT_MS})
for k = 1, #KEYS do
  local count = tonumber(ARGV[k])
  if count > 0 then
    redis.call('INCRBY', KEYS[k] .. slot, count)
    redis.call('PEXPIRE', KEYS[k] .. slot, ${2 * 1000 + USAGE_SLOT_MS})
  end
end
return 1`);

/** Accepted requests over the last second for each prefix in KEYS, in order. */
export const ACCEPTED_LAST_SECOND = new LuaScript(`${NOW_MS}
local slot = math.floor(now / ${USAGE_SLOT_MS})
local totals = {}
for k = 1, #KEYS do
  local total = 0
  for i = 0, ${1000 / USAGE_SLOT_MS - 1} do
    total = total + (tonumber(redis.call('GET', KEYS[k] .. (slot - i))) or 0)
  end
  totals[k] = total
end
return totals`);

/**
 * Failed authentications of one address (SPEC §5 T1). KEYS[1] the failure times (a sorted set),
 * KEYS[2] the block; ARGV failures, window ms, cooldown ms, a unique member. Answers
 * { ms blocked, 1 when this failure started the block }.
 */
export const RECORD_AUTH_FAILURE = new LuaScript(`${NOW_MS}
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {blocked, 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[4])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {0, 0}
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return {tonumber(ARGV[3]), 1}`);
