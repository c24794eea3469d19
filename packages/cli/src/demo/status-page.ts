import http from 'node:http';
import type { CanaryStatus, EdgeStatus, MonitorSnapshot, ServiceStatus } from './monitor.js';
import { listenOrAny } from './ports.js';
import type { Signals } from './stats.js';
import type { TrafficStats } from './traffic.js';

/**
 * The demo's status page, until the real dashboard exists: golden signals per service,
 * the calls between services, the canary's split and the processes, from the sidecars'
 * own metrics. Plain HTML and CSS; a few lines of script refresh the live part every 2 s
 * (without script, the page reloads itself).
 */

export interface ProcessInfo {
  readonly name: string;
  readonly role: 'sidecar' | 'app' | 'control-plane';
  readonly pid: number | undefined;
  /** Ports and such, for display. */
  readonly detail: string;
  readonly adminPort?: number;
}

export interface DemoStatus extends MonitorSnapshot {
  readonly bookstoreUrl: string;
  readonly statusUrl: string;
  readonly dataDir: string;
  readonly traffic: TrafficStats;
  readonly processes: readonly ProcessInfo[];
}

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const fmtRps = (v: number | null): string => (v === null ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const fmtPct = (v: number | null): string => {
  if (v === null) return '–';
  const p = v * 100;
  return p >= 99.95 ? '100%' : `${p.toFixed(1)}%`;
};
const fmtMs = (v: number | null): string => (v === null ? '–' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);
const successClass = (v: number | null): string => (v === null ? 'none' : v >= 0.995 ? 'good' : v >= 0.95 ? 'warn' : 'bad');

const metric = (label: string, value: string, cls = ''): string =>
  `<div class="metric ${cls}"><div class="value">${esc(value)}</div><div class="label">${esc(label)}</div></div>`;

const serviceCard = (s: ServiceStatus): string => {
  const sig = s.signals;
  const instances =
    s.instances.length > 1
      ? `<table class="mini"><thead><tr><th>instance</th><th>req/s</th><th>success</th><th>p50</th><th>p99</th></tr></thead><tbody>${s.instances
          .map(
            (i) =>
              `<tr><td>${esc(i.name)}</td><td>${fmtRps(i.signals.rps)}</td><td class="${successClass(i.signals.successRate)}">${fmtPct(i.signals.successRate)}</td><td>${fmtMs(i.signals.p50Ms)}</td><td>${fmtMs(i.signals.p99Ms)}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
  return `<section class="card service" data-service="${esc(s.name)}" data-rps="${sig.rps ?? ''}" data-total="${sig.total}">
  <div class="card-head"><h3>${esc(s.name)}</h3><span class="chip ${s.runtime.startsWith('Python') ? 'py' : 'node'}">${esc(s.runtime)}</span><span class="count">${s.instances.length} instance${s.instances.length === 1 ? '' : 's'}</span></div>
  <div class="metrics">${metric('req/s', fmtRps(sig.rps))}${metric('success', fmtPct(sig.successRate), successClass(sig.successRate))}${metric('p50', fmtMs(sig.p50Ms))}${metric('p99', fmtMs(sig.p99Ms))}</div>
  ${instances}
  <div class="foot">${sig.total.toLocaleString('en-US')} requests served since start</div>
</section>`;
};

const canaryPanel = (c: CanaryStatus): string => {
  const colors = ['#3b82f6', '#ef4444', '#10b981', '#f59e0b'];
  const bar = (share: (i: number) => number | null, label: (i: number) => string): string =>
    `<div class="bar">${c.backends
      .map((_, i) => {
        const s = share(i);
        const w = s === null ? 0 : Math.max(0, Math.min(100, s * 100));
        return w <= 0 ? '' : `<span style="width:${w.toFixed(2)}%;background:${colors[i % colors.length] ?? '#999'}">${w >= 7 ? esc(label(i)) : ''}</span>`;
      })
      .join('')}</div>`;
  const total = c.backends.reduce((n, b) => n + b.configuredPercent, 0) || 1;
  // Inside a bar, `v2` says enough; the table below names the whole subset.
  const short = (i: number): string =>
    (c.backends[i]?.label ?? '')
      .split(',')
      .map((kv) => kv.slice(kv.indexOf('=') + 1))
      .join(',');
  const rows = c.backends
    .map(
      (b, i) =>
        `<tr><td><i class="dot" style="background:${colors[i % colors.length] ?? '#999'}"></i>${esc(b.label)}</td><td>${b.configuredPercent}%</td><td>${fmtPct(b.windowShare)} <small>(${b.windowCount})</small></td><td>${fmtPct(b.totalShare)} <small>(${b.total.toLocaleString('en-US')})</small></td></tr>`,
    )
    .join('');
  return `<section class="card canary" data-canary="${esc(c.service)}">
  <div class="card-head"><h3>Canary: ${esc(c.service)}</h3><span class="count">route ${esc(c.route)}</span></div>
  <div class="bars">
    <div class="bar-label">configured</div>${bar((i) => (c.backends[i]?.configuredPercent ?? 0) / total, (i) => `${short(i)} ${c.backends[i]?.configuredPercent ?? 0}%`)}
    <div class="bar-label">observed</div>${bar((i) => c.backends[i]?.totalShare ?? null, (i) => `${short(i)} ${fmtPct(c.backends[i]?.totalShare ?? null)}`)}
  </div>
  <table class="mini"><thead><tr><th>subset</th><th>weight</th><th>last window</th><th>since start</th></tr></thead><tbody>${rows}</tbody></table>
  <div class="foot">Counted by each instance's own sidecar (inbound requests), not by the caller.</div>
</section>`;
};

const edgeRow = (e: EdgeStatus): string => {
  const s: Signals = e.signals;
  return `<tr data-from="${esc(e.from)}" data-to="${esc(e.to)}"><td>${esc(e.from)} <span class="arrow">→</span> ${esc(e.to)}</td><td class="via">${esc(e.via)}</td><td>${fmtRps(s.rps)}</td><td class="${successClass(s.successRate)}">${fmtPct(s.successRate)}</td><td>${fmtMs(s.p50Ms)}</td><td>${fmtMs(s.p99Ms)}</td></tr>`;
};

/** The part of the page that refreshes. */
export const renderLive = (st: DemoStatus): string => {
  const t = st.traffic;
  const trafficOk = t.sent > 0 ? t.ok / Math.max(1, t.ok + t.failed) : null;
  const errors = st.scrapeErrors.length > 0 ? `<div class="alert">Cannot read metrics from: ${st.scrapeErrors.map(esc).join('; ')}</div>` : '';
  return `${errors}
<div class="grid services">${st.services.map(serviceCard).join('\n')}</div>
<div class="grid two">
  ${st.canaries.map(canaryPanel).join('\n')}
  <section class="card">
    <div class="card-head"><h3>Traffic generator</h3><span class="count">${esc(t.ratePerSecond)} req/s to ${esc(t.target)}</span></div>
    <div class="metrics">${metric('sent', t.sent.toLocaleString('en-US'))}${metric('ok', t.ok.toLocaleString('en-US'))}${metric('failed', t.failed.toLocaleString('en-US'), t.failed > 0 ? 'bad' : '')}${metric('success', fmtPct(trafficOk), successClass(trafficOk))}</div>
    <div class="foot">${t.lastError === undefined ? 'No failures.' : `Last failure: <code>${esc(t.lastError)}</code>`}</div>
  </section>
</div>
<section class="card">
  <div class="card-head"><h3>Calls between services</h3><span class="count">as the calling sidecar measures them, TLS between sidecars</span></div>
  <table class="wide"><thead><tr><th>call</th><th>how the caller reaches its sidecar</th><th>req/s</th><th>success</th><th>p50</th><th>p99</th></tr></thead>
  <tbody>${st.edges.map(edgeRow).join('')}</tbody></table>
</section>
<section class="card">
  <div class="card-head"><h3>Processes</h3><span class="count">one app and one <code>weft proxy</code> per instance; logs in ${esc(st.dataDir)}/logs</span></div>
  <table class="wide"><thead><tr><th>process</th><th>pid</th><th>listening</th><th>admin</th></tr></thead><tbody>${st.processes
    .map(
      (p) =>
        `<tr><td>${esc(p.name)}</td><td>${esc(p.pid ?? '–')}</td><td>${esc(p.detail)}</td><td>${
          p.adminPort === undefined
            ? ''
            : `<a href="http://127.0.0.1:${p.adminPort}/config">config</a> · <a href="http://127.0.0.1:${p.adminPort}/metrics">metrics</a>`
        }</td></tr>`,
    )
    .join('')}</tbody></table>
</section>
<p class="updated" data-updated="${esc(st.updatedAt ?? '')}">Rates, success and latency over the last ${esc(st.windowSeconds)} s, from each sidecar's <code>/metrics</code> (<code>istio_requests_total</code>, <code>istio_request_duration_milliseconds</code>). Updated ${esc(st.updatedAt === null ? 'never' : new Date(st.updatedAt).toLocaleTimeString('en-GB'))}.</p>`;
};

const CSS = `
:root{--ink:#172033;--muted:#5f6b7f;--line:#e4e7ee;--bg:#f4f6fa;--good:#0f9d58;--warn:#d98e04;--bad:#d93025;--accent:#3b5bdb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#172033;color:#fff;padding:16px 28px;display:flex;align-items:center;gap:18px;flex-wrap:wrap}
header h1{margin:0;font-size:20px;font-weight:650;letter-spacing:.2px}
header h1 b{color:#8fb3ff}
header .sub{color:#a9b4c8;font-size:13px}
header .live{margin-left:auto;font-size:12px;color:#a9b4c8;display:flex;align-items:center;gap:6px}
header .live i{width:8px;height:8px;border-radius:50%;background:#34d399;display:inline-block;box-shadow:0 0 0 3px rgba(52,211,153,.25)}
header .live.down i{background:#f87171;box-shadow:0 0 0 3px rgba(248,113,113,.25)}
main{max-width:1240px;margin:0 auto;padding:20px 24px 40px}
.links{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}
.links a{background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 14px;color:var(--accent);text-decoration:none;font-weight:600}
.links a span{color:var(--muted);font-weight:400;margin-left:6px}
.grid{display:grid;gap:14px;margin-bottom:14px}
.grid.services{grid-template-columns:repeat(auto-fill,minmax(270px,1fr))}
.grid.two{grid-template-columns:repeat(auto-fit,minmax(380px,1fr))}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin-bottom:14px}
.grid .card{margin-bottom:0}
.card-head{display:flex;align-items:baseline;gap:10px;margin-bottom:10px;flex-wrap:wrap}
.card-head h3{margin:0;font-size:15.5px}
.count{color:var(--muted);font-size:12px}
.chip{font-size:11px;border-radius:999px;padding:1px 8px;background:#eef2ff;color:#3b5bdb}
.chip.py{background:#fff7e6;color:#b26a00}
.metrics{display:grid;grid-template-columns:repeat(4,1fr);gap:8px}
.metric .value{font-size:20px;font-weight:650;font-variant-numeric:tabular-nums}
.metric .label{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.5px}
.metric.good .value,td.good{color:var(--good)}
.metric.warn .value,td.warn{color:var(--warn)}
.metric.bad .value,td.bad{color:var(--bad)}
.foot{margin-top:10px;font-size:12px;color:var(--muted)}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th{text-align:left;font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.4px;font-weight:600;padding:6px 8px;border-bottom:1px solid var(--line)}
td{padding:6px 8px;border-bottom:1px solid var(--line)}
tr:last-child td{border-bottom:0}
table.mini{margin-top:10px;font-size:12.5px}
td.via{color:var(--muted);font-size:12.5px}
.arrow{color:var(--muted)}
.bars{display:grid;grid-template-columns:80px 1fr;gap:6px 10px;align-items:center}
.bar-label{font-size:11px;color:var(--muted);text-transform:uppercase}
.bar{display:flex;height:22px;border-radius:6px;overflow:hidden;background:#eef0f4}
.bar span{display:flex;align-items:center;justify-content:center;color:#fff;font-size:11.5px;font-weight:600;white-space:nowrap;overflow:hidden;transition:width .6s}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.alert{background:#fdecea;color:#8a1c14;border:1px solid #f5c2bd;border-radius:8px;padding:8px 12px;margin-bottom:14px}
.updated{color:var(--muted);font-size:12px}
code{background:#eef0f4;border-radius:4px;padding:0 4px;font-size:12px}
a{color:var(--accent)}
`;

const SCRIPT = `
(function(){
  var live=document.getElementById('live'), dot=document.getElementById('dot');
  function tick(){
    fetch('/live',{cache:'no-store'}).then(function(r){ if(!r.ok) throw new Error(r.status); return r.text(); })
      .then(function(html){ live.innerHTML=html; dot.className='live'; dot.lastChild.textContent=' live'; })
      .catch(function(){ dot.className='live down'; dot.lastChild.textContent=' demo not reachable'; });
  }
  setInterval(tick,2000);
})();
`;

export const renderPage = (st: DemoStatus): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Weft demo: status</title>
<noscript><meta http-equiv="refresh" content="2"></noscript>
<style>${CSS}</style></head>
<body>
<header><h1><b>Weft</b> demo</h1><span class="sub">a bookstore of ${st.services.length} services on loopback, each behind its own sidecar</span><span class="live" id="dot"><i></i> live</span></header>
<main>
<div class="links"><a href="${esc(st.bookstoreUrl)}" target="_blank">Bookstore<span>${esc(st.bookstoreUrl)}</span></a></div>
<div id="live">${renderLive(st)}</div>
</main>
<script>${SCRIPT}</script>
</body></html>`;

export interface StatusServer {
  readonly port: number;
  /** True when the port asked for was busy and another was taken. */
  readonly fellBack: boolean;
  close(): Promise<void>;
}

/** Serves the page on `host:port` (another port if that one is busy): `/`, `/live`, `/api/status`. */
export const startStatusServer = async (host: string, port: number, status: () => DemoStatus): Promise<StatusServer> => {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string): void => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    try {
      if (path === '/') send(200, 'text/html; charset=utf-8', renderPage(status()));
      else if (path === '/live') send(200, 'text/html; charset=utf-8', renderLive(status()));
      else if (path === '/api/status') send(200, 'application/json', `${JSON.stringify(status(), null, 2)}\n`);
      else send(404, 'text/plain; charset=utf-8', 'not found: try / or /api/status\n');
    } catch (err) {
      send(500, 'text/plain; charset=utf-8', `status page error: ${(err as Error).message}\n`);
    }
  });
  server.keepAliveTimeout = 5000;
  const bound = await listenOrAny(server, host, port);
  return {
    port: bound.port,
    fellBack: bound.fellBack,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
};
