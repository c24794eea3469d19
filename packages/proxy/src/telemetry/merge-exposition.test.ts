import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeExpositions } from './merge-exposition.js';

const worker = (requests: number, active: number, bucket: number) => `# HELP istio_requests_total Requests.
# TYPE istio_requests_total counter
istio_requests_total{reporter="source",response_code="200"} ${requests}
# HELP weft_proxy_connections_active Open connections.
# TYPE weft_proxy_connections_active gauge
weft_proxy_connections_active ${active}
# HELP weft_proxy_config_info Config in effect.
# TYPE weft_proxy_config_info gauge
weft_proxy_config_info{routes_version="1",endpoints_version="1"} 1
# HELP d Duration.
# TYPE d histogram
d_bucket{le="1"} ${bucket}
d_bucket{le="+Inf"} ${bucket}
d_sum ${bucket * 0.5}
d_count ${bucket}
`;

test('counters, histograms and counting gauges add up across workers', () => {
  const merged = mergeExpositions([worker(3, 1, 2), worker(4, 2, 5)]);
  assert.match(merged, /^istio_requests_total\{reporter="source",response_code="200"\} 7$/m);
  assert.match(merged, /^weft_proxy_connections_active 3$/m);
  assert.match(merged, /^d_bucket\{le="\+Inf"\} 7$/m);
  assert.match(merged, /^d_sum 3.5$/m);
  assert.match(merged, /^d_count 7$/m);
});

test('descriptive gauges keep one value and HELP/TYPE lines appear once', () => {
  const merged = mergeExpositions([worker(1, 1, 1), worker(1, 1, 1), worker(1, 1, 1)]);
  assert.match(merged, /^weft_proxy_config_info\{routes_version="1",endpoints_version="1"\} 1$/m);
  assert.equal(merged.match(/# TYPE istio_requests_total counter/g)?.length, 1);
});

test('series present in only one worker are kept', () => {
  const merged = mergeExpositions([worker(1, 0, 0), `${worker(1, 0, 0)}istio_requests_total{reporter="source",response_code="503"} 2\n`]);
  assert.match(merged, /response_code="503"\} 2$/m);
  // grouped under its own family, not the one whose lines came last
  assert.ok(merged.indexOf('response_code="503"') < merged.indexOf('# HELP weft_proxy_connections_active'));
});
