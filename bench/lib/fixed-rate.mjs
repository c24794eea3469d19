#!/usr/bin/env node
// Open-loop HTTP/1.1 load generator: a fixed request rate over a pool of keep-alive
// connections, latency measured from each request's *scheduled* send time.
//
// Why this shape:
// - Open loop: requests are due at start + k/rate whatever happened to earlier ones, so a
//   stall in the system under test delays every request due during the stall and all of
//   them are counted (no coordinated omission, as in wrk2). A request that is due while
//   every connection is busy waits in a queue; its wait is part of its latency.
// - Timers: Node's timers and libuv's poll have 1 ms resolution, which at 1000 rps would add
//   up to a millisecond of generator noise to every sample. A worker thread sleeps with
//   `Atomics.wait` (sub-millisecond timed wait, no busy loop) and wakes the main thread with
//   a message at each due time, so sends start within tens of microseconds of schedule
//   while the generator stays nearly idle (it shares 2 cores with the system under test).
// - Both numbers are kept: `latency` (from the scheduled time, the one to report) and
//   `service` (from the moment the request was written), whose difference is generator or
//   queueing lag. A large gap means the generator, not the target, was late.
//
// Usage as a CLI (prints one JSON object on stdout):
//   node bench/lib/fixed-rate.mjs --port 8080 [--host 127.0.0.1] [--path /] [--rate 1000]
//        [--duration 10] [--warmup 2] [--connections 16] [--timeout 5]
// or import { runFixedRate } from './fixed-rate.mjs'.

import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const now = () => Number(process.hrtime.bigint()); // ns, CLOCK_MONOTONIC, shared with workers

const TICKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { startNs, intervalNs, endNs, stop } = workerData;
const cell = new Int32Array(new SharedArrayBuffer(4));
const now = () => Number(process.hrtime.bigint());
for (let k = 0; ; k++) {
  const due = startNs + k * intervalNs;
  if (due > endNs || Atomics.load(stop, 0) === 1) break;
  const waitMs = (due - now()) / 1e6;
  if (waitMs > 0) Atomics.wait(cell, 0, 0, waitMs);
  parentPort.postMessage(k);
}
parentPort.postMessage(-1);
`;

/**
 * Percentiles of a sample of numbers (nearest-rank on the sorted sample).
 * @param {Float64Array} sorted ascending
 * @param {number} p in [0, 100]
 */
export const percentile = (sorted, p) => {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
};

const summarize = (values) => {
  const s = Float64Array.from(values).sort();
  const ms = (ns) => Math.round((ns / 1e6) * 1000) / 1000;
  let sum = 0;
  for (const v of s) sum += v;
  return {
    count: s.length,
    min: ms(s[0] ?? NaN),
    mean: ms(s.length ? sum / s.length : NaN),
    p50: ms(percentile(s, 50)),
    p90: ms(percentile(s, 90)),
    p99: ms(percentile(s, 99)),
    p999: ms(percentile(s, 99.9)),
    max: ms(s[s.length - 1] ?? NaN),
  };
};

/**
 * Minimal HTTP/1.1 response framing: enough for status line, Content-Length and chunked
 * bodies. Calls onResponse(status) once per complete response; onError(err) on garbage.
 */
class ResponseParser {
  #buf = Buffer.alloc(0);
  #state = 'head'; // head | body | chunk-size | chunk-data | trailers
  #remaining = 0;
  #status = 0;
  constructor(onResponse, onError) {
    this.onResponse = onResponse;
    this.onError = onError;
  }
  push(chunk) {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    for (;;) {
      if (this.#state === 'head') {
        const end = this.#buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (this.#buf.length > 64 * 1024) return this.onError(new Error('response head too large'));
          return;
        }
        const head = this.#buf.toString('latin1', 0, end);
        this.#buf = this.#buf.subarray(end + 4);
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
        if (!m) return this.onError(new Error(`bad status line: ${head.slice(0, 80)}`));
        this.#status = Number(m[1]);
        if (this.#status >= 100 && this.#status < 200) continue;
        const lower = head.toLowerCase();
        const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
        if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) this.#state = 'chunk-size';
        else if (cl) {
          this.#remaining = Number(cl[1]);
          this.#state = 'body';
        } else if (this.#status === 204 || this.#status === 304) {
          this.#remaining = 0;
          this.#state = 'body';
        } else return this.onError(new Error('response without length (close-delimited) is not supported'));
      } else if (this.#state === 'body') {
        const take = Math.min(this.#remaining, this.#buf.length);
        this.#buf = this.#buf.subarray(take);
        this.#remaining -= take;
        if (this.#remaining > 0) return;
        this.#state = 'head';
        this.onResponse(this.#status);
      } else if (this.#state === 'chunk-size') {
        const end = this.#buf.indexOf('\r\n');
        if (end < 0) return;
        const size = parseInt(this.#buf.toString('latin1', 0, end).split(';')[0], 16);
        this.#buf = this.#buf.subarray(end + 2);
        if (Number.isNaN(size)) return this.onError(new Error('bad chunk size'));
        if (size === 0) this.#state = 'trailers';
        else {
          this.#remaining = size + 2; // data + CRLF
          this.#state = 'chunk-data';
        }
      } else if (this.#state === 'chunk-data') {
        const take = Math.min(this.#remaining, this.#buf.length);
        this.#buf = this.#buf.subarray(take);
        this.#remaining -= take;
        if (this.#remaining > 0) return;
        this.#state = 'chunk-size';
      } else if (this.#state === 'trailers') {
        const end = this.#buf.indexOf('\r\n');
        if (end < 0) return;
        this.#buf = this.#buf.subarray(end + 2);
        if (end === 0) {
          this.#state = 'head';
          this.onResponse(this.#status);
        }
      }
    }
  }
}

/**
 * Runs a fixed-rate load and resolves with latency statistics in milliseconds.
 * @param {{host?: string, port: number, path?: string, rate?: number, durationS?: number,
 *   warmupS?: number, connections?: number, timeoutS?: number, hostHeader?: string}} o
 */
export const runFixedRate = async (o) => {
  const host = o.host ?? '127.0.0.1';
  const rate = o.rate ?? 1000;
  const durationS = o.durationS ?? 10;
  const warmupS = o.warmupS ?? 2;
  const nconn = o.connections ?? 16;
  const timeoutNs = (o.timeoutS ?? 5) * 1e9;
  const request = Buffer.from(
    `GET ${o.path ?? '/'} HTTP/1.1\r\nHost: ${o.hostHeader ?? `${host}:${o.port}`}\r\nUser-Agent: weft-bench-fixed-rate\r\nAccept: */*\r\n\r\n`,
    'latin1',
  );

  const errors = { connect: 0, reset: 0, parse: 0, timeout: 0, non2xx: 0, unsent: 0 };
  const latency = [];
  const service = [];
  const queue = []; // scheduled times (ns) waiting for an idle connection
  const idle = [];
  const conns = [];
  let recordFromNs = Infinity;
  let sent = 0;
  let completed = 0;

  const open = () =>
    new Promise((resolve) => {
      const c = { sock: null, busy: false, sched: 0, wrote: 0, dead: false };
      const sock = net.connect({ host, port: o.port, noDelay: true });
      c.sock = sock;
      const parser = new ResponseParser(
        (status) => {
          const t = now();
          if (c.sched >= recordFromNs) {
            latency.push(t - c.sched);
            service.push(t - c.wrote);
            if (status < 200 || status >= 300) errors.non2xx++;
          }
          completed++;
          c.busy = false;
          release(c);
        },
        () => {
          errors.parse++;
          sock.destroy();
        },
      );
      sock.on('connect', () => resolve(c));
      sock.on('data', (d) => parser.push(d));
      sock.on('error', () => {});
      sock.on('close', () => {
        c.dead = true;
        if (c.busy) errors.reset++;
        const i = idle.indexOf(c);
        if (i >= 0) idle.splice(i, 1);
        if (!stopped) {
          // Replace a lost connection so the pool keeps its size.
          open().then((n) => {
            if (n) {
              conns.push(n);
              release(n);
            }
          });
        }
        resolve(null);
      });
      sock.setTimeout(timeoutNs / 1e6, () => {
        if (c.busy) errors.timeout++;
        sock.destroy();
      });
    }).then((c) => {
      if (!c) errors.connect++;
      return c;
    });

  const send = (c, sched) => {
    c.busy = true;
    c.sched = sched;
    c.wrote = now();
    sent++;
    c.sock.write(request);
  };
  const release = (c) => {
    if (c.dead) return;
    const sched = queue.shift();
    if (sched !== undefined) send(c, sched);
    else idle.push(c);
  };

  let stopped = false;
  const first = await Promise.all(Array.from({ length: nconn }, open));
  for (const c of first) if (c) conns.push(c), idle.push(c);
  if (conns.length === 0) throw new Error(`fixed-rate: cannot connect to ${host}:${o.port}`);

  const intervalNs = 1e9 / rate;
  const startNs = now() + 5e6;
  const total = Math.round((warmupS + durationS) * rate); // requests k = 0 .. total-1
  const endNs = startNs + (total - 1) * intervalNs;
  recordFromNs = startNs + warmupS * 1e9;
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const ticker = new Worker(TICKER_SOURCE, { eval: true, workerData: { startNs, intervalNs, endNs, stop: stopFlag } });
  let issued = 0; // requests scheduled so far (index k is due at startNs + k * intervalNs)
  let lateSum = 0;
  let lateCount = 0;

  await new Promise((resolve, reject) => {
    ticker.on('error', reject);
    ticker.on('message', (k) => {
      if (k < 0) return resolve();
      // Issue everything due by now (messages may coalesce under load).
      const t = now();
      const dueUpTo = Math.min(Math.floor((t - startNs) / intervalNs), total - 1);
      while (issued <= dueUpTo) {
        const sched = startNs + issued * intervalNs;
        issued++;
        if (sched >= recordFromNs) {
          lateSum += t - sched;
          lateCount++;
        }
        const c = idle.pop();
        if (c) send(c, sched);
        else queue.push(sched);
      }
    });
  });

  // Drain: wait for in-flight requests (bounded by the timeout).
  const drainUntil = now() + timeoutNs;
  while ((queue.length > 0 || conns.some((c) => c.busy && !c.dead)) && now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 5));
  }
  stopped = true;
  Atomics.store(stopFlag, 0, 1);
  await ticker.terminate();
  errors.unsent += queue.length;
  for (const c of conns) {
    if (c.busy && !c.dead) errors.timeout++;
    c.sock.destroy();
  }
  const recorded = latency.length;
  const expected = Math.floor(durationS * rate);
  return {
    rate,
    durationS,
    warmupS,
    connections: nconn,
    expected,
    recorded,
    sent,
    completed,
    achievedRate: Math.round((recorded / durationS) * 10) / 10,
    errors,
    meanScheduleLagMs: lateCount ? Math.round((lateSum / lateCount / 1e6) * 1000) / 1000 : NaN,
    latency: summarize(latency), // from scheduled send time (coordinated-omission free)
    service: summarize(service), // from the actual write
  };
};

const parseArgs = (argv) => {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (!k.startsWith('--')) throw new Error(`unexpected argument ${k}`);
    a[k.slice(2)] = argv[++i];
  }
  return a;
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const a = parseArgs(process.argv.slice(2));
  if (!a.port) {
    console.error('usage: fixed-rate.mjs --port N [--host H] [--path P] [--rate R] [--duration S] [--warmup S] [--connections N] [--timeout S]');
    process.exit(2);
  }
  runFixedRate({
    host: a.host,
    port: Number(a.port),
    path: a.path,
    rate: a.rate ? Number(a.rate) : undefined,
    durationS: a.duration ? Number(a.duration) : undefined,
    warmupS: a.warmup ? Number(a.warmup) : undefined,
    connections: a.connections ? Number(a.connections) : undefined,
    timeoutS: a.timeout ? Number(a.timeout) : undefined,
  }).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (e) => {
      console.error(String(e?.stack ?? e));
      process.exit(1);
    },
  );
}
