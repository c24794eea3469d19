import { performance } from 'node:perf_hooks';
import type { Logger } from '@weft/core';
import type { AuthzDecision } from './evaluator.js';
import type { PeerIdentity } from './peer-identity.js';

/** How often, at most, one reason for denials is logged at info level. */
export const DENIAL_LOG_INTERVAL_MS = 60_000;
/** Reasons tracked at once; past it the oldest are forgotten (a config change makes new ones). */
const MAX_TRACKED = 1024;

interface Tracked {
  lastLoggedAt: number;
  /** Denials for this reason since the last info line. */
  unlogged: number;
}

/**
 * Logs denied requests without flooding the log: every denial at debug level, and at info
 * level the first denial for each reason (policy and rule, or the fallback), then at most
 * one line per reason per {@link DENIAL_LOG_INTERVAL_MS} with the count since the last.
 * A denial is an expected outcome (the policy did its job), so never a warning.
 */
export class DenialLog {
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #tracked = new Map<string, Tracked>();

  constructor(logger: Logger, now: () => number = () => performance.now()) {
    this.#logger = logger;
    this.#now = now;
  }

  record(decision: AuthzDecision, peer: PeerIdentity | undefined, method: string, path: string): void {
    const caller = peer?.principal ?? 'unauthenticated';
    if (this.#logger.isLevelEnabled('debug')) {
      this.#logger.debug({ policy: decision.policy, rule: decision.rule, caller, method, path }, `request denied: ${decision.reason}`);
    }
    const now = this.#now();
    const key = decision.reason;
    let t = this.#tracked.get(key);
    if (t === undefined) {
      if (this.#tracked.size >= MAX_TRACKED) {
        const oldest = this.#tracked.keys().next().value;
        if (oldest !== undefined) this.#tracked.delete(oldest);
      }
      t = { lastLoggedAt: now, unlogged: 0 };
      this.#tracked.set(key, t);
      this.#logger.info({ policy: decision.policy, rule: decision.rule, caller, method, path }, `request denied: ${decision.reason}`);
      return;
    }
    t.unlogged++;
    if (now - t.lastLoggedAt < DENIAL_LOG_INTERVAL_MS) return;
    this.#logger.info(
      { policy: decision.policy, rule: decision.rule, denied: t.unlogged, caller, method, path },
      `${t.unlogged} requests denied in the last ${Math.round((now - t.lastLoggedAt) / 1000)}s: ${decision.reason} (the last shown)`,
    );
    t.lastLoggedAt = now;
    t.unlogged = 0;
  }
}
