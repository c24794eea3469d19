import { NO_SIGNALS, parseReading, ReadingWindow, signalsOf, type Reading, type Signals } from './stats.js';

/**
 * The status page's model: scrapes every sidecar's admin `/metrics` every interval and
 * turns the last scrapes into golden signals per service, per instance, per call between
 * services, and the canary's observed split.
 */

export interface MonitoredSidecar {
  /** Instance name (`reviews-v1`) or the ingress's service name. */
  readonly name: string;
  readonly service: string;
  /** The instance's labels (for canary subsets); empty for the ingress. */
  readonly labels: Readonly<Record<string, string>>;
  readonly version: string;
  readonly adminPort: number;
  readonly isIngress: boolean;
}

export interface ServiceInfo {
  readonly name: string;
  /** What the app is written in, for display. */
  readonly runtime: string;
}

export interface EdgeInfo {
  readonly from: string;
  readonly to: string;
  /** How the caller reaches the sidecar: `upstream listener`, `HTTP_PROXY`. */
  readonly via: string;
}

export interface CanaryInfo {
  readonly service: string;
  readonly route: string;
  readonly backends: readonly { readonly subset: Readonly<Record<string, string>>; readonly percent: number }[];
}

export interface InstanceStatus {
  readonly name: string;
  readonly version: string;
  readonly signals: Signals;
}

export interface ServiceStatus {
  readonly name: string;
  readonly runtime: string;
  readonly signals: Signals;
  readonly instances: readonly InstanceStatus[];
}

export interface EdgeStatus extends EdgeInfo {
  readonly signals: Signals;
}

export interface CanaryBackendStatus {
  /** `version=v1`. */
  readonly label: string;
  readonly configuredPercent: number;
  readonly windowCount: number;
  /** Share of the window's requests, 0..1; null without requests. */
  readonly windowShare: number | null;
  readonly total: number;
  readonly totalShare: number | null;
}

export interface CanaryStatus {
  readonly service: string;
  readonly route: string;
  readonly backends: readonly CanaryBackendStatus[];
}

export interface MonitorSnapshot {
  readonly updatedAt: string | null;
  readonly windowSeconds: number;
  readonly services: readonly ServiceStatus[];
  readonly edges: readonly EdgeStatus[];
  readonly canaries: readonly CanaryStatus[];
  /** Sidecars whose last scrape failed, with why. */
  readonly scrapeErrors: readonly string[];
}

export interface MonitorOptions {
  readonly sidecars: readonly MonitoredSidecar[];
  readonly services: readonly ServiceInfo[];
  readonly edges: readonly EdgeInfo[];
  readonly canaries: readonly CanaryInfo[];
  readonly intervalMs?: number;
  /** Scrapes kept per sidecar; the window is (size - 1) intervals. */
  readonly windowSize?: number;
}

const scrape = async (port: number, timeoutMs: number): Promise<string> => {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
};

const matches = (labels: Readonly<Record<string, string>>, subset: Readonly<Record<string, string>>): boolean =>
  Object.entries(subset).every(([k, v]) => labels[k] === v);

export class Monitor {
  readonly #opts: MonitorOptions;
  readonly #windows = new Map<string, ReadingWindow>();
  readonly #errors = new Map<string, string>();
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #updatedAt: Date | undefined;
  #inFlight = false;

  constructor(opts: MonitorOptions) {
    this.#opts = opts;
    this.#intervalMs = opts.intervalMs ?? 2000;
    for (const s of opts.sidecars) this.#windows.set(s.name, new ReadingWindow(opts.windowSize ?? 6));
  }

  /** Scrapes now, then every interval. */
  start(): void {
    void this.scrapeOnce();
    this.#timer = setInterval(() => void this.scrapeOnce(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async scrapeOnce(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      await Promise.all(
        this.#opts.sidecars.map(async (s) => {
          try {
            const text = await scrape(s.adminPort, Math.min(1500, this.#intervalMs));
            this.#windows.get(s.name)?.push(parseReading(text, performance.now()));
            this.#errors.delete(s.name);
          } catch (err) {
            this.#errors.set(s.name, `${s.name}: ${(err as Error).message}`);
          }
        }),
      );
      this.#updatedAt = new Date();
    } finally {
      this.#inFlight = false;
    }
  }

  #windowsWhere(pred: (s: MonitoredSidecar) => boolean): ReadingWindow[] {
    return this.#opts.sidecars.filter(pred).map((s) => this.#windows.get(s.name) as ReadingWindow);
  }

  snapshot(): MonitorSnapshot {
    const inbound = (r: Reading) => r.inbound;
    const instancesOf = (service: string) => this.#opts.sidecars.filter((s) => !s.isIngress && s.service === service);
    const services: ServiceStatus[] = this.#opts.services.map((svc) => ({
      name: svc.name,
      runtime: svc.runtime,
      signals: signalsOf(this.#windowsWhere((s) => !s.isIngress && s.service === svc.name), inbound),
      instances: instancesOf(svc.name).map((s) => ({
        name: s.name,
        version: s.version,
        signals: signalsOf(this.#windowsWhere((x) => x.name === s.name), inbound),
      })),
    }));
    const edges: EdgeStatus[] = this.#opts.edges.map((e) => ({
      ...e,
      signals: signalsOf(
        this.#windowsWhere((s) => s.service === e.from),
        (r) => r.outbound.get(e.to),
      ),
    }));
    const canaries: CanaryStatus[] = this.#opts.canaries.map((c) => {
      const parts = c.backends.map((b) => {
        const sig = signalsOf(
          this.#windowsWhere((s) => !s.isIngress && s.service === c.service && matches(s.labels, b.subset)),
          inbound,
        );
        return { b, sig: sig === NO_SIGNALS ? { ...NO_SIGNALS } : sig };
      });
      const windowSum = parts.reduce((n, p) => n + p.sig.windowCount, 0);
      const totalSum = parts.reduce((n, p) => n + p.sig.total, 0);
      return {
        service: c.service,
        route: c.route,
        backends: parts.map(({ b, sig }) => ({
          label: Object.entries(b.subset)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
          configuredPercent: b.percent,
          windowCount: sig.windowCount,
          windowShare: windowSum > 0 ? sig.windowCount / windowSum : null,
          total: sig.total,
          totalShare: totalSum > 0 ? sig.total / totalSum : null,
        })),
      };
    });
    return {
      updatedAt: this.#updatedAt?.toISOString() ?? null,
      windowSeconds: ((this.#opts.windowSize ?? 6) - 1) * (this.#intervalMs / 1000),
      services,
      edges,
      canaries,
      scrapeErrors: [...this.#errors.values()],
    };
  }
}
