import assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogramQuantile, parsePrometheusText } from './prom.js';
import { parseReading, ReadingWindow, signalsOf } from './stats.js';

test('parsePrometheusText reads samples, labels with escapes, and special values', () => {
  const samples = parsePrometheusText(
    [
      '# HELP istio_requests_total Total requests.',
      '# TYPE istio_requests_total counter',
      'istio_requests_total{reporter="destination",response_code="200",x="a \\"quoted\\" \\\\ value"} 12',
      'istio_requests_total{reporter="source",destination_service_name="ratings",response_code="503"} 3 1700000000000',
      'up 1',
      'h_bucket{le="+Inf"} +Inf',
      'broken{le="1" 2',
      '',
    ].join('\n'),
  );
  assert.deepEqual(samples, [
    { name: 'istio_requests_total', labels: { reporter: 'destination', response_code: '200', x: 'a "quoted" \\ value' }, value: 12 },
    { name: 'istio_requests_total', labels: { reporter: 'source', destination_service_name: 'ratings', response_code: '503' }, value: 3 },
    { name: 'up', labels: {}, value: 1 },
    { name: 'h_bucket', labels: { le: '+Inf' }, value: Infinity },
  ]);
});

test('histogramQuantile interpolates inside the bucket, as Prometheus does', () => {
  const buckets = [
    { le: 5, count: 0 },
    { le: 10, count: 50 },
    { le: 25, count: 100 },
    { le: Infinity, count: 100 },
  ];
  assert.equal(histogramQuantile(0.5, buckets), 10);
  assert.equal(histogramQuantile(0.25, buckets), 7.5);
  assert.equal(histogramQuantile(0.99, buckets), 10 + 15 * (49 / 50));
  assert.equal(histogramQuantile(0.5, [{ le: Infinity, count: 0 }]), undefined);
  assert.equal(histogramQuantile(0.5, [{ le: 1, count: 0 }, { le: Infinity, count: 4 }]), 1, 'the +Inf bucket gives the highest finite bound');
});

const metrics = (ok: number, failed: number, fast: number): string =>
  [
    `istio_requests_total{reporter="destination",response_code="200"} ${ok}`,
    `istio_requests_total{reporter="destination",response_code="503"} ${failed}`,
    `istio_requests_total{reporter="source",destination_service_name="ratings",response_code="200"} ${ok}`,
    `istio_request_duration_milliseconds_bucket{reporter="destination",response_code="200",le="10"} ${fast}`,
    `istio_request_duration_milliseconds_bucket{reporter="destination",response_code="200",le="+Inf"} ${ok}`,
    `istio_request_duration_milliseconds_bucket{reporter="destination",response_code="503",le="10"} ${failed}`,
    `istio_request_duration_milliseconds_bucket{reporter="destination",response_code="503",le="+Inf"} ${failed}`,
  ].join('\n');

test('signals come from the difference between the oldest and newest scrape of the window', () => {
  const w = new ReadingWindow(3);
  w.push(parseReading(metrics(100, 0, 100), 0));
  assert.equal(signalsOf([w], (r) => r.inbound).rps, null, 'one scrape says nothing about rates');
  w.push(parseReading(metrics(150, 10, 130), 2000));
  w.push(parseReading(metrics(190, 10, 170), 4000));
  const s = signalsOf([w], (r) => r.inbound);
  assert.equal(s.windowCount, 100);
  assert.equal(s.rps, 25);
  assert.equal(s.successRate, 0.9);
  assert.equal(s.total, 200);
  assert.equal(s.p50Ms, 10 * (50 / 80));
  assert.equal(signalsOf([w], (r) => r.outbound.get('ratings')).rps, 22.5);
  // The window slides: the first scrape is gone.
  w.push(parseReading(metrics(190, 10, 170), 6000));
  assert.equal(signalsOf([w], (r) => r.inbound).windowCount, 40);
});
