import type { InboundRateLimit } from '@weft/api/data-plane';
import type { HeaderReader } from '../authz/evaluator.js';
import type { PeerIdentity } from '../authz/peer-identity.js';
import { ProxyError, type HopRef } from '../errors/proxy-error.js';
import { systemClock, type Clock } from '../resilience/clock.js';
import type { RateLimitSubject } from '../resilience/rate-limit-key.js';
import { rateLimitHeaders } from '../resilience/rate-limit-headers.js';
import { RateLimiter, type RateLimitDecision } from '../resilience/rate-limiter.js';
import { countRefusal, rateLimitCounts } from './rate-limit-counts.js';

/** A GLOBAL policy's shared buckets (Redis); see global-rate-limiter.ts. */
export interface SharedBuckets {
  /** The decision, or `undefined` when the store could not answer in time (the failure mode applies). */
  check(policy: InboundRateLimit, subject: RateLimitSubject): Promise<RateLimitDecision | undefined>;
}

/** What {@link InboundRateLimits} needs from its proxy. */
export interface InboundRateLimitsOptions {
  /** `name.namespace` of the proxy's own Service. */
  readonly proxy: string;
  readonly clock?: Clock;
  /** Where GLOBAL policies keep their buckets; without it they are checked as LOCAL ones. */
  readonly shared?: SharedBuckets;
}

/** How often, at most, refilled local buckets are dropped (on the request path, cheaply). */
const SWEEP_INTERVAL_MS = 1000;

/** The result of a check: nothing (admitted) or the error that ends the request, now or later. */
export type RateLimitVerdict = ProxyError | undefined | Promise<ProxyError | undefined>;

/**
 * The RateLimitPolicies of the proxy's own Service, enforced on inbound after authorization
 * and shared by the HTTP/1.1 and HTTP/2 handlers. Each policy is checked in policy order; a
 * request takes one token from every limit of a policy or none (the engine's rule), so a
 * request refused by a per-caller limit does not use up the Service-wide one of the same
 * policy. LOCAL buckets survive config changes that leave their policy as it was (they are
 * kept by the policy's content); GLOBAL ones live in Redis and answer asynchronously.
 */
export class InboundRateLimits {
  readonly #hop: HopRef;
  readonly #clock: Clock;
  readonly #shared: SharedBuckets | undefined;
  /** Local limiters by the content of their policy, for the policies of the config in effect. */
  #limiters = new Map<string, RateLimiter>();
  /** The policy lists already resolved to limiters (one per config). */
  readonly #resolved = new WeakMap<readonly InboundRateLimit[], readonly (RateLimiter | undefined)[]>();
  #lastSweep = 0;

  constructor(options: InboundRateLimitsOptions) {
    this.#hop = { direction: 'inbound', proxy: options.proxy, service: options.proxy };
    this.#clock = options.clock ?? systemClock;
    this.#shared = options.shared;
  }

  /** Keys held by the local limiters of the config last seen. */
  get localKeys(): number {
    let n = 0;
    for (const l of this.#limiters.values()) n += l.size;
    return n;
  }

  /**
   * Judges one request: `undefined` when it may go on, else the error that ends it (429 with
   * the rate-limit headers). A promise only when a GLOBAL policy applies.
   */
  check<H>(policies: readonly InboundRateLimit[] | undefined, peer: PeerIdentity | undefined, remoteAddress: string, headers: H, read: HeaderReader<H>): RateLimitVerdict {
    if (policies === undefined || policies.length === 0) return undefined;
    const limiters = this.#limitersFor(policies);
    this.#maybeSweep();
    const subject: RateLimitSubject = {
      sourceIdentity: peer?.principal ?? remoteAddress,
      header: (name) => read(headers, name),
    };
    for (let i = 0; i < policies.length; i++) {
      const policy = policies[i] as InboundRateLimit;
      const limiter = limiters[i];
      if (limiter === undefined) return this.#checkShared(policies, limiters, i, subject);
      const decision = limiter.check(subject);
      if (!decision.allowed) return this.#refusal(policy, decision);
    }
    return undefined;
  }

  /** From policy `from` on, with the GLOBAL ones asking the shared store. */
  async #checkShared(policies: readonly InboundRateLimit[], limiters: readonly (RateLimiter | undefined)[], from: number, subject: RateLimitSubject): Promise<ProxyError | undefined> {
    for (let i = from; i < policies.length; i++) {
      const policy = policies[i] as InboundRateLimit;
      const limiter = limiters[i];
      let decision: RateLimitDecision | undefined;
      if (limiter !== undefined) decision = limiter.check(subject);
      else {
        decision = await (this.#shared as SharedBuckets).check(policy, subject);
        if (decision === undefined) {
          rateLimitCounts.redisErrors++;
          if (policy.redis?.failureMode === 'CLOSED') {
            countRefusal(policy.policy, 'redis-unavailable');
            return new ProxyError('WEFT_ERR_PROXY_RATE_LIMIT_UNAVAILABLE', `RateLimitPolicy ${policy.policy} could not reach Redis at ${policy.redis.address} in time (failureMode CLOSED)`, this.#hop, {
              extras: { headers: [['retry-after', '1']] },
            });
          }
          continue;
        }
      }
      if (!decision.allowed) return this.#refusal(policy, decision);
    }
    return undefined;
  }

  #refusal(policy: InboundRateLimit, decision: RateLimitDecision): ProxyError {
    const limit = decision.refusedBy ?? '';
    countRefusal(policy.policy, limit);
    return new ProxyError('WEFT_ERR_PROXY_RATE_LIMITED', `RateLimitPolicy ${policy.policy} limit "${limit}" has no token left for this request`, this.#hop, {
      extras: { headers: rateLimitHeaders(decision) },
    });
  }

  /** The local limiter of each policy (undefined for a GLOBAL one), made once per config. */
  #limitersFor(policies: readonly InboundRateLimit[]): readonly (RateLimiter | undefined)[] {
    const found = this.#resolved.get(policies);
    if (found !== undefined) return found;
    const next = new Map<string, RateLimiter>();
    const list = policies.map((p) => {
      if (p.redis !== undefined && this.#shared !== undefined) return undefined;
      const key = JSON.stringify([p.policy, p.limits, p.maxKeys]);
      const limiter = next.get(key) ?? this.#limiters.get(key) ?? new RateLimiter(p.limits, { clock: this.#clock, maxKeys: p.maxKeys });
      next.set(key, limiter);
      return limiter;
    });
    // Limiters of policies the new config no longer has are dropped with their buckets.
    this.#limiters = next;
    this.#resolved.set(policies, list);
    return list;
  }

  #maybeSweep(): void {
    const now = this.#clock.now();
    if (now - this.#lastSweep < SWEEP_INTERVAL_MS) return;
    this.#lastSweep = now;
    for (const l of this.#limiters.values()) l.sweep();
  }
}
