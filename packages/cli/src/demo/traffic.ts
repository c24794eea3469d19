import http from 'node:http';

/** What the traffic generator has done so far. */
export interface TrafficStats {
  readonly ratePerSecond: number;
  readonly target: string;
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** The last failure, e.g. `503 WEFT_ERR_PROXY_UPSTREAM_CONNECT (UF) ...`. */
  readonly lastError: string | undefined;
}

export interface TrafficOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Host header: the service the ingress routes to. */
  readonly authority: string;
  readonly ratePerSecond: number;
  readonly timeoutMs?: number;
}

/**
 * A steady trickle of requests, a few per second with some jitter, as a browser-ish client
 * would send: it calls the ingress sidecar's listener for `web`, so that every hop it
 * causes is inside the mesh. Open loop: a slow answer does not slow the rate down.
 */
export class TrafficGenerator {
  readonly #opts: TrafficOptions;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  readonly #inFlight = new Set<http.ClientRequest>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #sent = 0;
  #ok = 0;
  #failed = 0;
  #lastError: string | undefined;

  constructor(opts: TrafficOptions) {
    this.#opts = opts;
  }

  start(): void {
    if (this.#running || this.#opts.ratePerSecond <= 0) return;
    this.#running = true;
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#running) return;
    const mean = 1000 / this.#opts.ratePerSecond;
    this.#timer = setTimeout(() => {
      this.#fire();
      this.#schedule();
    }, mean * (0.6 + Math.random() * 0.8));
  }

  #fire(): void {
    const o = this.#opts;
    this.#sent++;
    const req = http.request(
      { host: o.host, port: o.port, path: o.path, method: 'GET', agent: this.#agent, headers: { host: o.authority, 'user-agent': 'weft-demo-traffic' } },
      (res) => {
        res.resume();
        res.on('end', () => {
          this.#inFlight.delete(req);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 400) this.#ok++;
          else {
            this.#failed++;
            const why = res.headers['x-weft-error'];
            this.#lastError = `${status}${typeof why === 'string' ? ` ${why}` : ''}`;
          }
        });
        res.on('error', () => undefined);
      },
    );
    this.#inFlight.add(req);
    req.setTimeout(o.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer within ${(o.timeoutMs ?? 10_000) / 1000} s`)));
    req.on('error', (err) => {
      if (!this.#inFlight.delete(req)) return;
      this.#failed++;
      this.#lastError = err.message;
    });
    req.end();
  }

  /** Stops sending; waits up to `graceMs` for requests in flight, then drops them. */
  async stop(graceMs = 2000): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const deadline = Date.now() + graceMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const req of this.#inFlight) req.destroy();
    this.#inFlight.clear();
    this.#agent.destroy();
  }

  stats(): TrafficStats {
    return {
      ratePerSecond: this.#opts.ratePerSecond,
      target: `http://${this.#opts.host}:${this.#opts.port}${this.#opts.path}`,
      sent: this.#sent,
      ok: this.#ok,
      failed: this.#failed,
      lastError: this.#lastError,
    };
  }
}
