import type { MetricsRegistry } from '../telemetry/registry.js';
import { MIRROR_OUTCOMES, mirrorCounts, type MirrorOutcome } from './mirror.js';

/**
 * `weft_proxy_mirror_requests_total{outcome}` (how mirrors ended: completed, failed,
 * timed_out, or dropped and why) and `weft_proxy_mirror_requests_active`, read from the
 * process's mirror counts at each scrape, so that the request path only bumps numbers.
 */
export const registerMirrorMetrics = (registry: MetricsRegistry): void => {
  const seen = new Map<MirrorOutcome, number>(MIRROR_OUTCOMES.map((o) => [o, mirrorCounts[o]]));
  registry.counter(
    'weft_proxy_mirror_requests_total',
    'Requests copied by RequestMirror filters, by outcome: completed, failed, timed_out, or dropped (in-flight limit, body too large, no endpoint).',
    ['outcome'],
    (c) => {
      for (const outcome of MIRROR_OUTCOMES) {
        const now = mirrorCounts[outcome];
        const before = seen.get(outcome) ?? 0;
        // Every outcome is rendered, at 0 until it happens, so that rates and alerts need no absent().
        c.labels({ outcome }).inc(now - before);
        seen.set(outcome, now);
      }
    },
  );
  registry.gauge('weft_proxy_mirror_requests_active', 'Mirrored requests in flight (waiting for their body or their response).', [], (g) =>
    g.labels().set(mirrorCounts.inFlight),
  );
};
