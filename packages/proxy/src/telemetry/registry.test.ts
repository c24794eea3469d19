import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSpaceStatistics } from 'node:v8';
import { escapeHelp, escapeLabelValue, formatValue } from './exposition.js';
import { MetricsRegistry } from './registry.js';

test('counters, gauges and histograms render in text format 0.0.4', () => {
  const r = new MetricsRegistry();
  const requests = r.counter('http_requests_total', 'Requests served.', ['method', 'code']);
  const inflight = r.gauge('inflight', 'Requests in flight.');
  const latency = r.histogram('latency_ms', 'Latency.', ['route'], [1, 10, 100]);

  requests.labels({ method: 'GET', code: '200' }).inc();
  requests.labels({ code: '200', method: 'GET' }).inc(2);
  requests.labels({ method: 'POST', code: '500' }).inc();
  inflight.labels().set(3);
  inflight.labels().dec();
  const h = latency.labels({ route: '/a' });
  for (const v of [0.5, 1, 5, 50, 1000]) h.observe(v);

  assert.equal(
    r.render(),
    [
      '# HELP http_requests_total Requests served.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="GET",code="200"} 3',
      'http_requests_total{method="POST",code="500"} 1',
      '# HELP inflight Requests in flight.',
      '# TYPE inflight gauge',
      'inflight 2',
      '# HELP latency_ms Latency.',
      '# TYPE latency_ms histogram',
      'latency_ms_bucket{route="/a",le="1"} 2',
      'latency_ms_bucket{route="/a",le="10"} 3',
      'latency_ms_bucket{route="/a",le="100"} 4',
      'latency_ms_bucket{route="/a",le="+Inf"} 5',
      'latency_ms_sum{route="/a"} 1056.5',
      'latency_ms_count{route="/a"} 5',
      '',
    ].join('\n'),
  );
});

test('children are cached: the same label values give the same child', () => {
  const r = new MetricsRegistry();
  const c = r.counter('c_total', 'c', ['a']);
  assert.equal(c.labels({ a: 'x' }), c.labels({ a: 'x' }));
  assert.notEqual(c.labels({ a: 'x' }), c.labels({ a: 'y' }));
});

test('label values and help text are escaped', () => {
  const r = new MetricsRegistry();
  r.counter('e_total', 'Help with \\ backslash\nand "quotes".', ['v']).labels({ v: 'a"b\\c\nd' }).inc();
  r.histogram('h', 'h', [], [0.25]).labels().observe(0.1);
  assert.equal(
    r.render(),
    [
      '# HELP e_total Help with \\\\ backslash\\nand "quotes".',
      '# TYPE e_total counter',
      'e_total{v="a\\"b\\\\c\\nd"} 1',
      '# HELP h h',
      '# TYPE h histogram',
      'h_bucket{le="0.25"} 1',
      'h_bucket{le="+Inf"} 1',
      'h_sum 0.1',
      'h_count 1',
      '',
    ].join('\n'),
  );
  assert.equal(escapeLabelValue('plain'), 'plain');
  assert.equal(escapeHelp('a\\b'), 'a\\\\b');
});

test('special values render as Prometheus spells them', () => {
  assert.equal(formatValue(Number.POSITIVE_INFINITY), '+Inf');
  assert.equal(formatValue(Number.NEGATIVE_INFINITY), '-Inf');
  assert.equal(formatValue(Number.NaN), 'NaN');
  assert.equal(formatValue(1800000), '1800000');
  assert.equal(formatValue(0.5), '0.5');
});

test('a family with labels and no series renders only HELP and TYPE; without labels, 0', () => {
  const r = new MetricsRegistry();
  r.counter('a_total', 'a', ['x']);
  r.counter('b_total', 'b');
  assert.equal(r.render(), '# HELP a_total a\n# TYPE a_total counter\n# HELP b_total b\n# TYPE b_total counter\nb_total 0\n');
});

test('collect callbacks compute values at render time', () => {
  const r = new MetricsRegistry();
  let level = 7;
  r.gauge('level', 'level', ['k'], (g) => g.labels({ k: 'v' }).set(level));
  assert.match(r.render(), /^level\{k="v"\} 7$/m);
  level = 9;
  assert.match(r.render(), /^level\{k="v"\} 9$/m);
});

test('remove and reset drop series', () => {
  const r = new MetricsRegistry();
  const info = r.gauge('info', 'info', ['version']);
  info.labels({ version: '1' }).set(1);
  info.reset();
  info.labels({ version: '2' }).set(1);
  assert.match(r.render(), /^info\{version="2"\} 1$/m);
  assert.doesNotMatch(r.render(), /version="1"/);
  assert.equal(info.remove({ version: '2' }), true);
  assert.doesNotMatch(r.render(), /version="2"/);
});

test('misuse is refused', () => {
  const r = new MetricsRegistry();
  const c = r.counter('c_total', 'c', ['a']);
  assert.throws(() => r.counter('c_total', 'again'), /already registered/);
  assert.throws(() => r.counter('bad-name', 'x'), /invalid metric name/);
  assert.throws(() => r.counter('x_total', 'x', ['__reserved']), /invalid label name/);
  assert.throws(() => r.counter('y_total', 'x', ['a', 'a']), /duplicate label/);
  assert.throws(() => r.histogram('h1', 'x', ['le'], [1]), /reserved/);
  assert.throws(() => r.histogram('h2', 'x', [], [2, 1]), /increase/);
  assert.throws(() => r.histogram('h3', 'x', [], [1, Number.POSITIVE_INFINITY]), /finite/);
  assert.throws(() => c.labels({}), /missing label "a"/);
  assert.throws(() => c.labels({ a: 'x', b: 'y' }), /unknown label "b"/);
  assert.throws(() => c.labels({ a: 'x' }).inc(-1), RangeError);
});

/** Bytes in V8's young generation, where short-lived per-call garbage would land. */
const youngBytes = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0;

test('a hot child update does not allocate per call', () => {
  const r = new MetricsRegistry();
  const child = r.histogram('hot', 'hot', ['a'], [1, 2, 3]).labels({ a: 'x' });
  const counter = r.counter('hot_total', 'hot', ['a']).labels({ a: 'x' });
  const gauge = r.gauge('hot_level', 'hot', ['a']).labels({ a: 'x' });
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      child.observe((i & 3) + 0.5);
      counter.inc();
      gauge.set(i);
    }
  };
  run(200_000); // let the optimizing compiler settle
  // 50k calls allocating even 16 bytes each would add 800 kB to the young generation, far
  // less than it holds, so most rounds see no collection; the largest growth tells.
  let largest = 0;
  for (let round = 0; round < 5; round++) {
    const before = youngBytes();
    run(50_000);
    largest = Math.max(largest, youngBytes() - before);
  }
  assert.ok(largest < 64 * 1024, `young generation grew by ${largest} bytes`);
  assert.equal(child.count, 450_000);
});
