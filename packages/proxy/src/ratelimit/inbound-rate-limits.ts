import type { InboundRateLimit } from '@weft/api/data-plane';
import type { HeaderReader } from '../authz/evaluator.js';
import type { PeerIdentity } from '../authz/peer-identity.js';
import { ProxyError, type HopRef } from '../errors/proxy-error.js';
import { systemClock, type Clock } from '../resilience/clock.js';
import type { RateLimitSubject } from '../resilience/rate-limit-key.js';
import { rateLimitHeaders } from '../resilience/rate-limit-headers.js';
import { RateLimiter, type RateLimitDecision } from '../resilience/rate-limiter.js';
import { compileMatch, type CompiledMatch } from '../routing/route-match.js';
import { countRefusal, rateLimitCounts } from './rate-limit-counts.js';
import { PolicyMatcher } from './rate-limit-match.js';

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

/** A policy of the config in effect, resolved once per config. */
interface ResolvedPolicy {
  readonly policy: InboundRateLimit;
  /** Its local buckets; undefined for a GLOBAL policy, whose buckets are in the shared store. */
  readonly limiter: RateLimiter | undefined;
  /** Its `matches`, compiled; undefined: every request. */
  readonly matches: readonly CompiledMatch[] | undefined;
}

/**
 * The RateLimitPolicies of the proxy's own Service, enforced on inbound after authorization
 * and shared by the HTTP/1.1 and HTTP/2 handlers. Each policy is checked in policy order; a
 * request takes one token from every limit of a policy or none (the engine's rule), so a
 * request refused by a per-caller limit does not use up the Service-wide one of the same
 * policy. LOCAL buckets survive config changes that leave their policy as it was (they are
 * kept by the policy's content); GLOBAL ones live in Redis and answer asynchronously. A
 * policy with `matches` judges only the requests that meet one of them: the others take
 * no token from it and are not refused by it.
 */
export class InboundRateLimits {
  readonly #hop: HopRef;
  readonly #clock: Clock;
  readonly #shared: SharedBuckets | undefined;
  /** Local limiters by the content of their policy, for the policies of the config in effect. */
  #limiters = new Map<string, RateLimiter>();
  /** The policy lists already resolved (one per config). */
  readonly #resolved = new WeakMap<readonly InboundRateLimit[], readonly ResolvedPolicy[]>();
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
   * Judges one request (`method`, `target`: path and query, `headers`): `undefined` when it
   * may go on, else the error that ends it (429 with the rate-limit headers). A promise only
   * when a GLOBAL policy applies.
   */
  check<H>(
    policies: readonly InboundRateLimit[] | undefined,
    peer: PeerIdentity | undefined,
    remoteAddress: string,
    method: string,
    target: string,
    headers: H,
    read: HeaderReader<H>,
  ): RateLimitVerdict {
    if (policies === undefined || policies.length === 0) return undefined;
    const resolved = this.#resolve(policies);
    this.#maybeSweep();
    const subject: RateLimitSubject = {
      sourceIdentity: peer?.principal ?? remoteAddress,
      header: (name) => read(headers, name),
    };
    // The request is read for matching only when a policy has matches.
    let matcher: PolicyMatcher<H> | undefined;
    const applies = (r: ResolvedPolicy): boolean => r.matches === undefined || (matcher ??= new PolicyMatcher(method, target, headers, read)).meets(r.matches);
    for (let i = 0; i < resolved.length; i++) {
      const r = resolved[i] as ResolvedPolicy;
      if (!applies(r)) continue;
      if (r.limiter === undefined) return this.#checkShared(resolved, applies, i, subject);
      const decision = r.limiter.check(subject);
      if (!decision.allowed) return this.#refusal(r.policy, decision);
    }
    return undefined;
  }

  /** From policy `from` on, with the GLOBAL ones asking the shared store. */
  async #checkShared(resolved: readonly ResolvedPolicy[], applies: (r: ResolvedPolicy) => boolean, from: number, subject: RateLimitSubject): Promise<ProxyError | undefined> {
    for (let i = from; i < resolved.length; i++) {
      const r = resolved[i] as ResolvedPolicy;
      if (!applies(r)) continue;
      const { policy, limiter } = r;
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

  /** The local limiter (undefined for a GLOBAL policy) and compiled matches of each policy, made once per config. */
  #resolve(policies: readonly InboundRateLimit[]): readonly ResolvedPolicy[] {
    const found = this.#resolved.get(policies);
    if (found !== undefined) return found;
    const next = new Map<string, RateLimiter>();
    const list = policies.map((p): ResolvedPolicy => {
      const matches = p.matches?.map(compileMatch);
      if (p.redis !== undefined && this.#shared !== undefined) return { policy: p, limiter: undefined, matches };
      // Buckets are kept by what they count: a change of matches alone starts them afresh.
      const key = JSON.stringify([p.policy, p.limits, p.maxKeys, p.matches ?? null]);
      const limiter = next.get(key) ?? this.#limiters.get(key) ?? new RateLimiter(p.limits, { clock: this.#clock, maxKeys: p.maxKeys });
      next.set(key, limiter);
      return { policy: p, limiter, matches };
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
