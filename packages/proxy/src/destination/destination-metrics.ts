import type { MetricsRegistry } from '../telemetry/registry.js';
import { BREAKER_RESOURCES } from '../resilience/circuit-breaker.js';
import { destinationCounts } from './destination-counts.js';
import type { Destination } from './destination.js';

/** Adds to `counter` what each key of `counts` grew by since the last scrape. */
const deltas = (counts: ReadonlyMap<string, number>, seen: Map<string, number>, inc: (labels: readonly string[], by: number) => void): void => {
  for (const [key, now] of counts) {
    const by = now - (seen.get(key) ?? 0);
    if (by === 0) continue;
    inc(key.split('\u0000'), by);
    seen.set(key, now);
  }
};

/**
 * What destination policies did and where they stand, per upstream Service:
 *
 * - `weft_proxy_retries_total{service,reason}`: retries sent, by what the retried attempt got
 *   (a status such as `503`, `grpc-14`, or `connect-failure`, `reset`, `timeout`);
 * - `weft_proxy_retries_refused_total{service,reason}`: retriable failures not retried
 *   (`budget-exhausted`, `retry-overflow`, `attempts-exhausted`, `deadline`, `body-not-replayable`);
 * - `weft_proxy_circuit_breaker_overflows_total{service,limit}`: requests and connections refused
 *   by `connectionPool` limits (requests answered 503 `UO`);
 * - `weft_proxy_circuit_breaker_open{service,resource}`: 1 while a resource is at its limit;
 * - `weft_proxy_outlier_ejections_total{service,reason}` and `weft_proxy_ejected_endpoints{service}`;
 * - `weft_proxy_endpoint_healthy{service,endpoint}`: 0 while active health checks fail an endpoint.
 *
 * Counters are read from process-wide counts at scrape time, gauges from the destinations
 * of the running config, so that the request path only bumps numbers.
 */
export const registerDestinationMetrics = (registry: MetricsRegistry, destinations: () => ReadonlyMap<string, Destination>): void => {
  const counter = (name: string, help: string, labels: readonly [string, string], counts: ReadonlyMap<string, number>): void => {
    const seen = new Map<string, number>();
    registry.counter(name, help, labels, (c) =>
      deltas(counts, seen, ([a = '', b = ''], by) => {
        c.labels({ [labels[0]]: a, [labels[1]]: b }).inc(by);
      }),
    );
  };
  counter('weft_proxy_retries_total', 'Retries sent to an upstream Service, by what the retried attempt got.', ['service', 'reason'], destinationCounts.retries);
  counter(
    'weft_proxy_retries_refused_total',
    'Retriable failures that were not retried, by why (retry budget, maxRetries, attempts, deadline, body not replayable).',
    ['service', 'reason'],
    destinationCounts.retriesRefused,
  );
  counter(
    'weft_proxy_circuit_breaker_overflows_total',
    'Requests (503 UO) and connections refused by a DestinationPolicy connectionPool limit.',
    ['service', 'limit'],
    destinationCounts.overflows,
  );
  counter('weft_proxy_outlier_ejections_total', 'Endpoints ejected by outlier detection, by reason.', ['service', 'reason'], destinationCounts.ejections);
  registry.gauge('weft_proxy_circuit_breaker_open', 'Whether a connectionPool resource of an upstream Service is at its limit (1) or not (0).', ['service', 'resource'], (g) => {
    g.reset();
    for (const [service, d] of destinations()) {
      if (d.policy === undefined) continue;
      for (const resource of BREAKER_RESOURCES) g.labels({ service, resource }).set(d.breaker.isOpen(resource) ? 1 : 0);
    }
  });
  registry.gauge('weft_proxy_ejected_endpoints', 'Endpoints of an upstream Service ejected by outlier detection now.', ['service'], (g) => {
    g.reset();
    for (const [service, d] of destinations()) if (d.outliers !== undefined) g.labels({ service }).set(d.outliers.ejectedCount);
  });
  registry.gauge('weft_proxy_endpoint_healthy', 'Whether active health checks pass an endpoint (1; also before its first check) or fail it (0).', ['service', 'endpoint'], (g) => {
    g.reset();
    for (const [service, d] of destinations()) {
      const health = d.health;
      if (health === undefined) continue;
      for (const e of d.endpoints) g.labels({ service, endpoint: e.key }).set(health.isAvailable(e.key) ? 1 : 0);
    }
  });
};
