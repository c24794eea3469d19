import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouteMatchSchema } from '@weft/api';
import { compareMatches, describeMatch, matchKey } from './route-precedence.js';
import type { SnapshotMatch } from './route-translate.js';

const m = (x: unknown): SnapshotMatch => RouteMatchSchema.parse(x);

/** Sorts matches by precedence and returns their labels. */
const order = (list: Record<string, unknown>): string[] =>
  Object.entries(list)
    .map(([label, x]) => ({ label, match: m(x) }))
    .sort((a, b) => compareMatches(a.match, b.match))
    .map((e) => e.label);

test('HTTP: Exact, then expressions, then prefixes by length; then method, headers, query parameters', () => {
  assert.deepEqual(
    order({
      root: {},
      api: { path: { value: '/api' } },
      apiV1: { path: { value: '/api/v1/' } },
      regex: { path: { type: 'RegularExpression', value: '/api/.*' } },
      longRegex: { path: { type: 'RegularExpression', value: '/api/v[0-9]+/.*' } },
      exact: { path: { type: 'Exact', value: '/a' } },
      longExact: { path: { type: 'Exact', value: '/api/v1/health' } },
    }),
    ['longExact', 'exact', 'longRegex', 'regex', 'apiV1', 'api', 'root'],
  );
  assert.deepEqual(
    order({
      plain: { path: { value: '/api' } },
      query2: { path: { value: '/api' }, queryParams: [{ name: 'a', value: '1' }, { name: 'b', value: '1' }] },
      headers1: { path: { value: '/api' }, headers: [{ name: 'x', value: '1' }] },
      headers2: { path: { value: '/api' }, headers: [{ name: 'x', value: '1' }, { name: 'y', value: '1' }] },
      method: { path: { value: '/api' }, method: 'GET' },
      methodHeaders: { path: { value: '/api' }, method: 'GET', headers: [{ name: 'x', value: '1' }] },
      longer: { path: { value: '/api/x' } },
    }),
    ['longer', 'methodHeaders', 'method', 'headers2', 'headers1', 'query2', 'plain'],
  );
});

test('gRPC matches come before HTTP ones: most service characters, then method, then Exact, then headers', () => {
  assert.deepEqual(
    order({
      http: { path: { type: 'Exact', value: '/helloworld.Greeter/SayHello' } },
      any: { grpc: {} },
      service: { grpc: { service: 'helloworld.Greeter' } },
      method: { grpc: { method: 'SayHello' } },
      both: { grpc: { service: 'helloworld.Greeter', method: 'SayHello' } },
      bothHeaders: { grpc: { service: 'helloworld.Greeter', method: 'SayHello' }, headers: [{ name: 'x', value: '1' }] },
      regex: { grpc: { type: 'RegularExpression', service: 'helloworld.Greete.', method: 'SayHello' } },
    }),
    ['bothHeaders', 'both', 'regex', 'service', 'method', 'any', 'http'],
  );
});

test('identical matches share a key: trailing "/" of a prefix, header case and order aside', () => {
  const same = [
    m({ path: { value: '/api/' }, headers: [{ name: 'X-A', value: '1' }, { name: 'b', value: '2' }] }),
    m({ path: { value: '/api' }, headers: [{ name: 'B', value: '2' }, { name: 'x-a', value: '1' }] }),
  ];
  assert.equal(matchKey(same[0] as SnapshotMatch), matchKey(same[1] as SnapshotMatch));
  const different = [
    m({ path: { value: '/api' } }),
    m({ path: { type: 'Exact', value: '/api' } }),
    m({ path: { value: '/api' }, method: 'GET' }),
    m({ path: { value: '/api' }, headers: [{ name: 'x-a', value: '2' }] }),
    m({ path: { value: '/api' }, headers: [{ type: 'RegularExpression', name: 'x-a', value: '1' }] }),
    m({ path: { value: '/api' }, queryParams: [{ name: 'X', value: '1' }] }),
    m({ path: { value: '/api' }, queryParams: [{ name: 'x', value: '1' }] }),
    m({ grpc: { service: 'a.B' } }),
    m({ grpc: { service: 'a.B', method: 'M' } }),
  ];
  assert.equal(new Set(different.map(matchKey)).size, different.length);
});

test('matches as messages name them', () => {
  assert.equal(describeMatch(m({ path: { value: '/api' } })), 'PathPrefix /api');
  assert.equal(describeMatch(m({ path: { type: 'Exact', value: '/x' }, method: 'POST', headers: [{ name: 'x-user', value: 'b' }], queryParams: [{ name: 'v', value: '2' }] })), 'Exact /x, method POST, headers x-user, query v');
  assert.equal(describeMatch(m({ grpc: { service: 'a.B' } })), 'gRPC a.B/*');
  assert.equal(describeMatch(m({ grpc: {} })), 'gRPC any call');
});
