import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSpaceStatistics } from 'node:v8';
import { createProxyMetrics, DURATION_BUCKETS_MS } from './proxy-metrics.js';
import { MetricsRegistry } from './registry.js';
import { lagSeconds } from './process-metrics.js';

const setup = (t: { after(fn: () => void): void }) => {
  const registry = new MetricsRegistry();
  const metrics = createProxyMetrics(registry, {
    service: 'productpage',
    namespace: 'shop',
    labels: { app: 'productpage', version: 'v1' },
    principal: 'spiffe://weft.local/ns/shop/sa/productpage',
  });
  t.after(() => metrics.stop());
  return { registry, metrics };
};

/** The sample lines of one metric, without HELP and TYPE. */
const samples = (text: string, name: string): string[] =>
  text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

test('outbound requests are reported by the source with Istio labels', (t) => {
  const { registry, metrics } = setup(t);
  const labels = metrics.outboundLabels({
    service: 'reviews.shop',
    serviceName: 'reviews',
    serviceNamespace: 'shop',
    protocol: 'http',
    peer: { workload: 'reviews', namespace: 'shop', version: 'v2', app: 'reviews' },
  });
  metrics.recordHttp(labels, 200, '-', '', 12, 100, 2048);
  metrics.recordHttp(labels, 200, '-', '', 3, 0, 10);
  metrics.recordHttp(labels, 503, 'UH', '', 0.2, 0, 0);

  const text = registry.render();
  const common =
    'reporter="source",source_workload="productpage",source_workload_namespace="shop",' +
    'source_principal="spiffe://weft.local/ns/shop/sa/productpage",source_app="productpage",source_version="v1",' +
    'destination_workload="reviews",destination_workload_namespace="shop",destination_principal="unknown",' +
    'destination_app="reviews",destination_version="v2",destination_service="reviews.shop",' +
    'destination_service_name="reviews",destination_service_namespace="shop",request_protocol="http",' +
    'connection_security_policy="unknown",source_canonical_service="productpage",destination_canonical_service="reviews",' +
    'source_canonical_revision="v1",destination_canonical_revision="v2",source_cluster="unknown",destination_cluster="unknown"';
  assert.deepEqual(samples(text, 'istio_requests_total'), [
    `istio_requests_total{${common},response_code="200",response_flags="-",grpc_response_status=""} 2`,
    `istio_requests_total{${common},response_code="503",response_flags="UH",grpc_response_status=""} 1`,
  ]);
  assert.ok(text.includes('# TYPE istio_request_duration_milliseconds histogram'));
  const ok = `${common},response_code="200",response_flags="-",grpc_response_status=""`;
  assert.ok(text.includes(`istio_request_duration_milliseconds_bucket{${ok},le="5"} 1`));
  assert.ok(text.includes(`istio_request_duration_milliseconds_bucket{${ok},le="25"} 2`));
  assert.ok(text.includes(`istio_request_duration_milliseconds_bucket{${ok},le="3600000"} 2`));
  assert.ok(text.includes(`istio_request_duration_milliseconds_sum{${ok}} 15`));
  assert.ok(text.includes(`istio_request_bytes_bucket{${ok},le="100"} 2`));
  assert.ok(text.includes(`istio_response_bytes_bucket{${ok},le="1000"} 1`));
  assert.ok(text.includes(`istio_response_bytes_sum{${ok}} 2058`));
  const prefix = `istio_request_duration_milliseconds_bucket{${ok},le="`;
  const les = text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length, l.indexOf('"', prefix.length)));
  assert.deepEqual(les, [...DURATION_BUCKETS_MS.map(String), '+Inf']);
});

test('inbound requests are reported by the destination, naming the local service', (t) => {
  const { registry, metrics } = setup(t);
  const labels = metrics.inboundLabels({
    protocol: 'grpc',
    securityPolicy: 'mutual_tls',
    peer: { workload: 'gateway', namespace: 'edge', principal: 'spiffe://weft.local/ns/edge/sa/gateway' },
  });
  metrics.recordHttp(labels, 200, '-', '14', 7, 5, 5);
  const [line] = samples(registry.render(), 'istio_requests_total');
  assert.match(line ?? '', /^istio_requests_total\{reporter="destination",source_workload="gateway",source_workload_namespace="edge",/);
  assert.match(line ?? '', /destination_workload="productpage",destination_workload_namespace="shop"/);
  assert.match(line ?? '', /destination_service="productpage\.shop",destination_service_name="productpage",destination_service_namespace="shop"/);
  assert.match(line ?? '', /request_protocol="grpc",connection_security_policy="mutual_tls"/);
  assert.match(line ?? '', /grpc_response_status="14"\} 1$/);
});

test('TCP connections and bytes are counted per target and flags', (t) => {
  const { registry, metrics } = setup(t);
  const labels = metrics.outboundLabels({ service: 'db.shop', serviceName: 'db', serviceNamespace: 'shop', protocol: 'tcp' });
  metrics.recordTcpOpened(labels);
  metrics.recordTcpBytes(labels, 10, 20);
  metrics.recordTcpBytes(labels, 1, 2);
  metrics.recordTcpClosed(labels, '-');
  metrics.recordTcpClosed(labels, 'UF');
  const text = registry.render();
  const value = (name: string, flags: string): string | undefined =>
    samples(text, name)
      .find((l) => l.includes(`response_flags="${flags}"`))
      ?.split(' ')
      .at(-1);
  assert.equal(value('istio_tcp_connections_opened_total', '-'), '1');
  assert.equal(value('istio_tcp_sent_bytes_total', '-'), '11');
  assert.equal(value('istio_tcp_received_bytes_total', '-'), '22');
  assert.equal(value('istio_tcp_connections_closed_total', '-'), '1');
  assert.equal(value('istio_tcp_connections_closed_total', 'UF'), '1');
  assert.match(text, /istio_tcp_sent_bytes_total\{reporter="source",.*request_protocol="tcp"/);
});

test('weft_proxy_* metrics track config, rejections and activity', (t) => {
  const { registry, metrics } = setup(t);
  metrics.configApplied('r1', 'e1');
  metrics.configApplied('r1', 'e2');
  metrics.configRejected();
  metrics.connectionsActive.inc();
  metrics.requestsActive.inc();
  metrics.requestsActive.inc();
  metrics.requestsActive.dec();
  const text = registry.render();
  assert.deepEqual(samples(text, 'weft_proxy_config_info'), ['weft_proxy_config_info{routes_version="r1",endpoints_version="e2"} 1']);
  assert.deepEqual(samples(text, 'weft_proxy_config_rejections_total'), ['weft_proxy_config_rejections_total 1']);
  assert.deepEqual(samples(text, 'weft_proxy_connections_active'), ['weft_proxy_connections_active 1']);
  assert.deepEqual(samples(text, 'weft_proxy_requests_active'), ['weft_proxy_requests_active 1']);
});

test('process metrics are rendered', (t) => {
  const { registry } = setup(t);
  const text = registry.render();
  for (const name of [
    'process_resident_memory_bytes',
    'process_cpu_seconds_total',
    'process_start_time_seconds',
    'nodejs_eventloop_lag_seconds',
    'nodejs_eventloop_lag_p99_seconds',
  ]) {
    const [line] = samples(text, name);
    assert.match(line ?? '', new RegExp(`^${name} [0-9.e+-]+$`), name);
  }
  const rss = Number(samples(text, 'process_resident_memory_bytes')[0]?.split(' ')[1]);
  assert.ok(rss > 1_000_000);
  const cpu1 = Number(samples(text, 'process_cpu_seconds_total')[0]?.split(' ')[1]);
  const cpu2 = Number(samples(registry.render(), 'process_cpu_seconds_total')[0]?.split(' ')[1]);
  assert.ok(cpu1 > 0 && cpu2 >= cpu1);
});

test('recordHttp reuses cached series without allocating', (t) => {
  const { registry, metrics } = setup(t);
  const labels = metrics.outboundLabels({ service: 'a.shop', serviceName: 'a', serviceNamespace: 'shop', protocol: 'http' });
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) metrics.recordHttp(labels, 200, '-', '', 1.5, 10, 100);
  };
  run(200_000);
  let largest = 0;
  for (let round = 0; round < 5; round++) {
    const before = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0;
    run(50_000);
    const after = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0;
    largest = Math.max(largest, after - before);
  }
  assert.ok(largest < 64 * 1024, `young generation grew by ${largest} bytes`);
  assert.match(registry.render(), /response_code="200",response_flags="-",grpc_response_status=""\} 450000$/m);
});

test('event-loop lag leaves out the sampler interval: an idle loop reads 0, not 20 ms', () => {
  // The sampler records the time between firings of a 20 ms timer.
  assert.equal(lagSeconds(20_000_000, 20), 0);
  assert.equal(lagSeconds(19_900_000, 20), 0, 'a firing a little early is no lag');
  assert.equal(lagSeconds(23_500_000, 20), 0.0035);
  assert.equal(lagSeconds(Number.NaN, 20), 0, 'no samples yet');
});
