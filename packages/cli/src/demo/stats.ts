import { histogramQuantile, parsePrometheusText, type PromSample } from './prom.js';

/**
 * Golden signals from the sidecars' own metrics, the way Istio's dashboards compute them:
 * each scrape of a sidecar's `/metrics` is reduced to cumulative counters (requests,
 * 5xx responses, duration buckets) for its inbound traffic (`reporter="destination"`) and
 * for its outbound traffic per destination service (`reporter="source"`); rates and
 * percentiles are differences between the newest and the oldest scrape of a sliding window.
 */

/** Cumulative request counters of one direction of one sidecar. */
export interface Counters {
  total: number;
  /** Responses with a 5xx status (what Istio counts as failures). */
  errors: number;
  /** Cumulative `istio_request_duration_milliseconds` buckets by upper bound. */
  readonly buckets: Map<number, number>;
}

/** What one scrape of one sidecar says. */
export interface Reading {
  /** Milliseconds (monotonic clock). */
  readonly at: number;
  readonly inbound: Counters;
  /** By `destination_service_name`. */
  readonly outbound: Map<string, Counters>;
}

const emptyCounters = (): Counters => ({ total: 0, errors: 0, buckets: new Map() });

export const readingOf = (samples: readonly PromSample[], at: number): Reading => {
  const inbound = emptyCounters();
  const outbound = new Map<string, Counters>();
  const countersOf = (labels: Readonly<Record<string, string>>): Counters | undefined => {
    if (labels['reporter'] === 'destination') return inbound;
    if (labels['reporter'] !== 'source') return undefined;
    const dst = labels['destination_service_name'] ?? 'unknown';
    let c = outbound.get(dst);
    if (c === undefined) outbound.set(dst, (c = emptyCounters()));
    return c;
  };
  for (const s of samples) {
    if (s.name === 'istio_requests_total') {
      const c = countersOf(s.labels);
      if (c === undefined) continue;
      c.total += s.value;
      if ((s.labels['response_code'] ?? '').startsWith('5')) c.errors += s.value;
    } else if (s.name === 'istio_request_duration_milliseconds_bucket') {
      const c = countersOf(s.labels);
      const le = s.labels['le'];
      if (c === undefined || le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      c.buckets.set(bound, (c.buckets.get(bound) ?? 0) + s.value);
    }
  }
  return { at, inbound, outbound };
};

export const parseReading = (metricsText: string, at: number): Reading => readingOf(parsePrometheusText(metricsText), at);

/** Golden signals over a window. Null where there is nothing to say yet. */
export interface Signals {
  /** Requests per second. */
  readonly rps: number | null;
  /** Share of non-5xx responses, 0..1; null without requests in the window. */
  readonly successRate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Requests in the window. */
  readonly windowCount: number;
  /** Requests since the sidecar started. */
  readonly total: number;
}

export const NO_SIGNALS: Signals = { rps: null, successRate: null, p50Ms: null, p99Ms: null, windowCount: 0, total: 0 };

/** Adds counters (e.g. several instances of one service). */
export const sumCounters = (list: readonly Counters[]): Counters => {
  const out = emptyCounters();
  for (const c of list) {
    out.total += c.total;
    out.errors += c.errors;
    for (const [le, n] of c.buckets) out.buckets.set(le, (out.buckets.get(le) ?? 0) + n);
  }
  return out;
};

/** Signals from counters at the start and the end of a window `seconds` long. */
export const signalsBetween = (oldest: Counters, newest: Counters, seconds: number): Signals => {
  const count = Math.max(0, newest.total - oldest.total);
  const errors = Math.max(0, newest.errors - oldest.errors);
  const bounds = [...newest.buckets.keys()].sort((a, b) => a - b);
  const buckets = bounds.map((le) => ({ le, count: Math.max(0, (newest.buckets.get(le) ?? 0) - (oldest.buckets.get(le) ?? 0)) }));
  const q = (x: number): number | null => (count > 0 ? (histogramQuantile(x, buckets) ?? null) : null);
  return {
    rps: seconds > 0 ? count / seconds : null,
    successRate: count > 0 ? (count - errors) / count : null,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    windowCount: count,
    total: newest.total,
  };
};

/** The readings of one sidecar over the last `size` scrapes. */
export class ReadingWindow {
  readonly #size: number;
  readonly #readings: Reading[] = [];

  constructor(size: number) {
    this.#size = size;
  }

  push(r: Reading): void {
    this.#readings.push(r);
    if (this.#readings.length > this.#size) this.#readings.shift();
  }

  get oldest(): Reading | undefined {
    return this.#readings[0];
  }

  get newest(): Reading | undefined {
    return this.#readings[this.#readings.length - 1];
  }
}

/**
 * Signals of a group of windows (the sidecars of one service's instances, say), over the
 * span their readings share; `pick` chooses the counters (inbound, or one outbound target).
 */
export const signalsOf = (windows: readonly ReadingWindow[], pick: (r: Reading) => Counters | undefined): Signals => {
  const pairs = windows
    .map((w) => ({ oldest: w.oldest, newest: w.newest }))
    .filter((p): p is { oldest: Reading; newest: Reading } => p.oldest !== undefined && p.newest !== undefined);
  if (pairs.length === 0) return NO_SIGNALS;
  const newest = sumCounters(pairs.map((p) => pick(p.newest) ?? emptyCounters()));
  if (pairs.every((p) => p.oldest === p.newest)) return { ...NO_SIGNALS, total: newest.total };
  const oldest = sumCounters(pairs.map((p) => pick(p.oldest) ?? emptyCounters()));
  const seconds = pairs.reduce((s, p) => s + (p.newest.at - p.oldest.at), 0) / pairs.length / 1000;
  return signalsBetween(oldest, newest, seconds);
};
