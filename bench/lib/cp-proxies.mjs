// Simulated proxies for the control-plane benchmark (bench/control-plane.mjs): N config
// stream clients in this one process, forked by the benchmark with an IPC channel. Each
// client is its own HTTP/2 connection (TLS, with the service's workload certificate), as a real proxy's is, sends a `hello` for its
// own workload and acknowledges every snapshot at once. None proxies traffic.
//
// Messages from the parent:
//   {cmd: 'connect', port, n, concurrency, namespace, service, upstreams, basePort, timeoutMs, tls: {key, cert, ca}}
//        -> {cmd: 'connected', ms, snapshots}  (every client has its first snapshot)
//   {cmd: 'expect', id, timeoutMs}  -> {cmd: 'armed', id}, then once every client has received
//        a snapshot of another version than the one it had when armed:
//        {cmd: 'round', id, times: [epoch ms per client], versions: count of distinct versions}
//   {cmd: 'quiet', ms, timeoutMs}  -> {cmd: 'quiet', snapshots} once no snapshot arrived for `ms`
//   {cmd: 'close'} -> closes every connection and exits.
// Times are epoch milliseconds with sub-millisecond precision (performance.timeOrigin +
// performance.now()), comparable with the parent's on the same machine.

import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';

const CONFIG_STREAM_PATH = '/weft.v1.ConfigStream/Stream';
const now = () => performance.timeOrigin + performance.now();

/** @type {Client[]} */
const clients = [];
let totalSnapshots = 0;
let lastSnapshotAt = 0;
let round = null; // {id, pending: Set<Client>, times: number[], versions: Set<string>, timer}

const send = (m) => process.send?.(m);
const fail = (message) => {
  send({ cmd: 'error', message });
  setTimeout(() => process.exit(1), 100);
};

// The version without parsing the whole (possibly large) snapshot line: the control plane
// writes `{"type":"snapshot","version":"...",...`; anything else is parsed fully.
const VERSION_RE = /^\{"type":"snapshot","version":"([^"]+)"/;

class Client {
  constructor(i, opts) {
    this.i = i;
    this.opts = opts;
    this.version = null;
    this.snapshots = 0;
    this.buf = '';
    this.firstResolve = null;
    this.first = new Promise((resolve, reject) => {
      this.firstResolve = resolve;
      this.firstReject = reject;
    });
  }

  open() {
    const { port, namespace, service, upstreams, basePort, tls } = this.opts;
    // The config stream is TLS, authenticated by the workload certificate.
    const session = http2.connect(`https://127.0.0.1:${port}`, { key: tls.key, cert: tls.cert, ca: tls.ca, checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' });
    this.session = session;
    session.on('error', (e) => this.firstReject(e));
    const req = session.request({ ':method': 'POST', ':path': CONFIG_STREAM_PATH, 'content-type': 'application/x-ndjson' });
    this.req = req;
    req.setEncoding('utf8');
    req.on('error', (e) => this.firstReject(e));
    req.on('response', (h) => {
      if (h[':status'] !== 200) this.firstReject(new Error(`stream status ${h[':status']}`));
    });
    req.on('data', (chunk) => this.onData(chunk));
    req.on('end', () => {
      this.ended = true;
      if (!this.closing) fail(`client ${this.i}: the control plane ended the stream (${this.buf.slice(0, 200)})`);
    });
    const hello = {
      type: 'hello',
      workload: `${service}-bench-${this.i}`,
      service,
      namespace,
      address: '127.0.0.1',
      port: basePort + this.i,
      appProtocol: 'http',
      upstreams,
    };
    req.write(`${JSON.stringify(hello)}\n`);
    return this.first;
  }

  onData(chunk) {
    const t = now();
    this.buf += chunk;
    let nl;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.onLine(line, t);
    }
  }

  onLine(line, t) {
    let version = VERSION_RE.exec(line.slice(0, 300))?.[1];
    if (version === undefined) {
      let m;
      try {
        m = JSON.parse(line);
      } catch {
        return fail(`client ${this.i}: not JSON: ${line.slice(0, 200)}`);
      }
      if (m.type === 'error') return fail(`client ${this.i}: control plane error ${m.code}: ${m.message}`);
      if (m.type !== 'snapshot') return;
      version = m.version;
    }
    // The ack goes out at once, before any bookkeeping.
    this.req.write(`${JSON.stringify({ type: 'ack', version })}\n`);
    const changed = version !== this.version;
    this.version = version;
    this.snapshots++;
    totalSnapshots++;
    lastSnapshotAt = t;
    if (this.snapshots === 1) this.firstResolve();
    if (round && changed && round.pending.has(this)) {
      round.pending.delete(this);
      round.times[this.i] = t;
      round.versions.add(version);
      if (round.pending.size === 0) finishRound();
    }
  }

  close() {
    this.closing = true;
    try {
      this.req?.close();
      this.session?.destroy();
    } catch {
      /* gone */
    }
  }
}

const finishRound = () => {
  const r = round;
  round = null;
  clearTimeout(r.timer);
  send({ cmd: 'round', id: r.id, times: r.times, versions: r.versions.size });
};

const withTimeout = (p, ms, what) => {
  let timer;
  return Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
};

const connect = async (m) => {
  const t0 = now();
  for (let i = 0; i < m.n; i++) clients.push(new Client(i, m));
  // Bounded concurrency: at most m.concurrency clients waiting for their first snapshot.
  let next = 0;
  const lane = async () => {
    while (next < clients.length) {
      const c = clients[next++];
      await withTimeout(c.open(), m.timeoutMs, `client ${c.i}'s first snapshot`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(m.concurrency, m.n) }, lane));
  send({ cmd: 'connected', ms: now() - t0, snapshots: totalSnapshots });
};

process.on('message', (m) => {
  if (m.cmd === 'connect') {
    connect(m).catch((e) => fail(`connect: ${e.message}`));
  } else if (m.cmd === 'expect') {
    if (round) return fail('a round is already armed');
    round = { id: m.id, pending: new Set(clients), times: new Array(clients.length).fill(null), versions: new Set(), timer: null };
    round.timer = setTimeout(() => {
      const r = round;
      round = null;
      send({ cmd: 'round', id: r.id, times: r.times, versions: r.versions.size, timedOut: true, missing: r.pending.size });
    }, m.timeoutMs);
    send({ cmd: 'armed', id: m.id });
  } else if (m.cmd === 'quiet') {
    const until = Date.now() + m.timeoutMs;
    const check = () => {
      if (now() - lastSnapshotAt >= m.ms || Date.now() > until) send({ cmd: 'quiet', snapshots: totalSnapshots });
      else setTimeout(check, 20);
    };
    check();
  } else if (m.cmd === 'close') {
    for (const c of clients) c.close();
    setTimeout(() => process.exit(0), 50);
  }
});

process.on('disconnect', () => process.exit(0));
