import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MetricsRegistry } from './registry.js';

/** How often the event-loop sampler's timer fires. */
const LAG_RESOLUTION_MS = 20;

/**
 * The lag in one event-loop sample, in seconds. The sampler records the time between two
 * firings of its timer, so a loop that is never late still reads the timer's interval:
 * that is taken off. Without samples yet (NaN) the lag is 0.
 */
export const lagSeconds = (intervalNs: number, resolutionMs: number): number =>
  Number.isFinite(intervalNs) ? Math.max(0, intervalNs - resolutionMs * 1e6) / 1e9 : 0;

/** Handle on the process metrics; `stop()` ends the event-loop sampling. */
export interface ProcessMetrics {
  stop(): void;
}

/**
 * Registers the usual process metrics under their customary names (as prom-client's
 * defaults name them, so that stock dashboards work): `process_resident_memory_bytes`,
 * `process_cpu_seconds_total`, `process_start_time_seconds`, and event-loop lag from
 * `perf_hooks.monitorEventLoopDelay` (a native sampler, so nothing runs in JavaScript
 * between scrapes). Lag values cover the time since the previous scrape, and are how late
 * the loop was, the sampler's own interval taken off.
 */
export const registerProcessMetrics = (registry: MetricsRegistry): ProcessMetrics => {
  registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [], (g) =>
    g.labels().set(process.memoryUsage.rss()),
  );

  let cpuSeen = 0;
  registry.counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', [], (c) => {
    const { user, system } = process.cpuUsage();
    const total = (user + system) / 1e6;
    if (total > cpuSeen) c.labels().inc(total - cpuSeen);
    cpuSeen = Math.max(cpuSeen, total);
  });

  const startSeconds = Math.round((Date.now() - process.uptime() * 1000) / 1000);
  registry.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', [], (g) =>
    g.labels().set(startSeconds),
  );

  const delay = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  delay.enable();
  const seconds = (ns: number): number => lagSeconds(ns, LAG_RESOLUTION_MS);
  let p99 = 0;
  let max = 0;
  registry.gauge('nodejs_eventloop_lag_seconds', 'Mean event loop lag since the last scrape, in seconds.', [], (g) => {
    // The three lag gauges read one window; this one renders first and resets it.
    g.labels().set(seconds(delay.mean));
    p99 = seconds(delay.percentile(99));
    max = seconds(delay.max);
    delay.reset();
  });
  registry.gauge('nodejs_eventloop_lag_p99_seconds', '99th percentile of event loop lag since the last scrape, in seconds.', [], (g) =>
    g.labels().set(p99),
  );
  registry.gauge('nodejs_eventloop_lag_max_seconds', 'Largest event loop lag since the last scrape, in seconds.', [], (g) =>
    g.labels().set(max),
  );

  return { stop: () => delay.disable() };
};
