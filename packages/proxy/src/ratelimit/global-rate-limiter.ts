import { createHash } from 'node:crypto';
import type { InboundRateLimit } from '@weft/api/data-plane';
import { rateLimitKeyOf, type RateLimitSubject } from '../resilience/rate-limit-key.js';
import type { LimitReading, RateLimitDecision } from '../resilience/rate-limiter.js';
import type { SharedBuckets } from './inbound-rate-limits.js';
import { RedisConnection } from './redis/redis-connection.js';
import { RespError, type RespValue } from './redis/resp.js';

/**
 * The token buckets of `mode: GLOBAL` RateLimitPolicies, kept in Redis so that every
 * instance of a Service draws from the same ones. One Lua script takes a request's token
 * from every limit of a policy, or from none, atomically (Redis runs a script alone), with
 * the same whole-fills-at-fixed-times rule as the local engine. Time is Redis's own clock
 * (`TIME`), so instances whose clocks disagree still agree on the buckets. A bucket key
 * expires once it would have refilled, so idle keys cost Redis nothing.
 *
 * The script runs by EVALSHA; after a Redis restart (NOSCRIPT) it is sent once with EVAL.
 */
export const TOKEN_BUCKET_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS
local tokens, last = {}, {}
local refusing = 0
for i = 1, n do
  local cap = tonumber(ARGV[i * 3 - 2])
  local per = tonumber(ARGV[i * 3 - 1])
  local iv = tonumber(ARGV[i * 3])
  local st = redis.call('HMGET', KEYS[i], 't', 'l')
  local tk, l = tonumber(st[1]), tonumber(st[2])
  if tk == nil or l == nil then
    tk, l = cap, now
  elseif now - l >= iv then
    local fills = math.floor((now - l) / iv)
    l = l + fills * iv
    tk = math.min(cap, tk + fills * per)
  end
  tokens[i], last[i] = tk, l
  if refusing == 0 and tk < 1 then refusing = i end
end
local out = { refusing }
for i = 1, n do
  local cap = tonumber(ARGV[i * 3 - 2])
  local per = tonumber(ARGV[i * 3 - 1])
  local iv = tonumber(ARGV[i * 3])
  if refusing == 0 then tokens[i] = tokens[i] - 1 end
  local reset = 0
  if tokens[i] < cap then reset = last[i] + iv - now end
  redis.call('HSET', KEYS[i], 't', tokens[i], 'l', last[i])
  redis.call('PEXPIRE', KEYS[i], (math.ceil((cap - tokens[i]) / per) + 1) * iv)
  out[#out + 1] = tokens[i]
  out[#out + 1] = reset
end
return out
`;

const SCRIPT_SHA = createHash('sha1').update(TOKEN_BUCKET_SCRIPT).digest('hex');

/** Prefix of every key Weft writes, so that a shared Redis can tell them apart. */
export const KEY_PREFIX = 'weft:rl:';

/**
 * The Redis key of one bucket: policy, limit, its numbers (so that a changed limit starts
 * afresh rather than inherit a bucket of another size), and the request's key.
 */
export const bucketKey = (policy: string, limit: InboundRateLimit['limits'][number], key: string): string =>
  `${KEY_PREFIX}${policy}|${limit.name}|${limit.tokens}/${limit.burst}/${limit.intervalMs}|${key}`;

/** Most Redis servers talked to at once; a config naming more drops the least recently used. */
const MAX_CONNECTIONS = 16;

export class GlobalRateLimiter implements SharedBuckets {
  readonly #connections = new Map<string, RedisConnection>();

  async check(policy: InboundRateLimit, subject: RateLimitSubject): Promise<RateLimitDecision | undefined> {
    const redis = policy.redis;
    if (redis === undefined) return undefined;
    const conn = this.#connection(redis.address);
    const keys = policy.limits.map((l) => bucketKey(policy.policy, l, rateLimitKeyOf(l.key, subject)));
    const args = policy.limits.flatMap((l) => [l.burst, l.tokens, l.intervalMs]);
    try {
      let reply = await conn.command(['EVALSHA', SCRIPT_SHA, keys.length, ...keys, ...args], redis.timeoutMs);
      if (reply instanceof RespError && reply.kind === 'NOSCRIPT') reply = await conn.command(['EVAL', TOKEN_BUCKET_SCRIPT, keys.length, ...keys, ...args], redis.timeoutMs);
      return decisionOf(policy, reply);
    } catch {
      return undefined;
    }
  }

  /** Closes every connection. */
  close(): void {
    for (const c of this.#connections.values()) c.close();
    this.#connections.clear();
  }

  #connection(address: string): RedisConnection {
    let c = this.#connections.get(address);
    if (c !== undefined) {
      this.#connections.delete(address);
      this.#connections.set(address, c);
      return c;
    }
    if (this.#connections.size >= MAX_CONNECTIONS) {
      const [oldest, conn] = this.#connections.entries().next().value ?? [];
      if (oldest !== undefined) this.#connections.delete(oldest);
      conn?.close();
    }
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    c = new RedisConnection({ host, port: Number(address.slice(colon + 1)) });
    this.#connections.set(address, c);
    return c;
  }
}

/** The script's reply `[refusing, r1, reset1, r2, reset2, ...]` as a decision; undefined when it is not that shape. */
export const decisionOf = (policy: InboundRateLimit, reply: RespValue): RateLimitDecision | undefined => {
  if (!Array.isArray(reply) || reply.length !== 1 + 2 * policy.limits.length || !reply.every((v) => typeof v === 'number')) return undefined;
  const nums = reply as number[];
  const refusing = nums[0] as number;
  const limits: LimitReading[] = policy.limits.map((l, i) => ({
    name: l.name,
    tokens: l.tokens,
    intervalMs: l.intervalMs,
    remaining: Math.max(0, nums[1 + 2 * i] as number),
    resetMs: Math.max(0, nums[2 + 2 * i] as number),
  }));
  if (refusing === 0) return { allowed: true, limits, retryAfterMs: 0 };
  const by = limits[refusing - 1];
  if (by === undefined) return undefined;
  return { allowed: false, limits, refusedBy: by.name, retryAfterMs: by.resetMs };
};
