import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RouteRuleSchema, type RouteRule } from './snapshot-routes.js';

const backend = { service: 'reviews.default' };

const parse = (rule: unknown): RouteRule => RouteRuleSchema.parse(rule);

const issues = (rule: unknown): string[] => {
  const r = RouteRuleSchema.safeParse(rule);
  assert.ok(!r.success, `expected ${JSON.stringify(rule)} to be refused`);
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

const refusedWith = (rule: unknown, pattern: RegExp): void => {
  const list = issues(rule);
  assert.ok(
    list.some((m) => pattern.test(m)),
    `expected an issue matching ${pattern}, got:\n${list.join('\n')}`,
  );
};

describe('snapshot route rules', () => {
  test('a rule as first snapshots wrote it parses to the same thing, with nothing added', () => {
    const rule = parse({ name: 'r', matches: [{ path: { type: 'Exact', value: '/x' } }], backendRefs: [{ service: 'a.default', weight: 5, subset: { version: 'v2' } }] });
    assert.deepEqual(rule, { name: 'r', matches: [{ path: { type: 'Exact', value: '/x' } }], backendRefs: [{ service: 'a.default', weight: 5, subset: { version: 'v2' } }] });
    assert.deepEqual(parse({ backendRefs: [backend] }).matches, [{ path: { type: 'PathPrefix', value: '/' } }]);
  });

  test('every match kind and filter kind is carried', () => {
    const rule = parse({
      matches: [
        {
          path: { type: 'RegularExpression', value: '/v[0-9]+/.*' },
          method: 'POST',
          headers: [{ name: 'x-user', value: 'beta' }, { type: 'RegularExpression', name: 'x-id', value: '[0-9]+' }],
          queryParams: [{ name: 'debug', value: '1' }],
        },
        { grpc: { service: 'helloworld.Greeter', method: 'SayHello' } },
      ],
      filters: [
        { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], add: [{ name: 'x-b', value: '2' }], remove: ['x-c'] } },
        { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } },
        { type: 'URLRewrite', urlRewrite: { hostname: 'example.com', path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } } },
        { type: 'RequestMirror', requestMirror: { service: 'shadow.default', fraction: { numerator: 5 } } },
        { type: 'RequestMirror', requestMirror: { service: 'shadow2.default', subset: { version: 'v3' } } },
      ],
      backendRefs: [{ ...backend, filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-backend', value: 'v1' }] } }] }],
    });
    assert.equal(rule.matches[0]?.headers?.[0]?.type, 'Exact', 'header match type defaults to Exact');
    assert.equal(rule.matches[1]?.grpc?.type, 'Exact');
    const mirror = rule.filters?.[3];
    assert.ok(mirror?.type === 'RequestMirror');
    assert.deepEqual(mirror.requestMirror.fraction, { numerator: 5, denominator: 100 });
  });

  test('a redirect rule has no backends; every other rule has at least one', () => {
    const r = parse({ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }], backendRefs: [] });
    const f = r.filters?.[0];
    assert.ok(f?.type === 'RequestRedirect');
    assert.equal(f.requestRedirect.statusCode, 302, 'the status defaults to 302');
    refusedWith({ filters: [{ type: 'RequestRedirect', requestRedirect: {} }], backendRefs: [backend] }, /redirects has no backendRefs/);
    refusedWith({ backendRefs: [] }, /at least one backend/);
    refusedWith({ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 304 } }], backendRefs: [] }, /statusCode/);
  });

  test('ReplacePrefixMatch needs PathPrefix matches', () => {
    const rewrite = { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } };
    parse({ matches: [{ path: { value: '/v1' } }], filters: [rewrite], backendRefs: [backend] });
    refusedWith({ matches: [{ path: { type: 'Exact', value: '/v1' } }], filters: [rewrite], backendRefs: [backend] }, /ReplacePrefixMatch needs/);
    parse({ matches: [{ path: { value: '/v1' } }], backendRefs: [{ ...backend, filters: [rewrite] }] });
    refusedWith({ matches: [{ grpc: {} }], backendRefs: [{ ...backend, filters: [rewrite] }] }, /ReplacePrefixMatch needs/);
  });

  test('bad values are refused with the field that holds them', () => {
    refusedWith({ matches: [{ path: { type: 'RegularExpression', value: '(a+)+' } }], backendRefs: [backend] }, /matches\.0\.path\.value: regular expression repeats a group/);
    refusedWith({ matches: [{ headers: [{ type: 'RegularExpression', name: 'x', value: 'a(?=b)' }] }], backendRefs: [backend] }, /headers\.0\.value: regular expression lookahead/);
    refusedWith({ matches: [{ grpc: { type: 'RegularExpression', method: '\\1' } }], backendRefs: [backend] }, /grpc\.method: regular expression backreferences/);
    refusedWith({ matches: [{ path: { type: 'Exact', value: 'x' } }], backendRefs: [backend] }, /must start with "\/"/);
    refusedWith({ matches: [{ headers: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }] }], backendRefs: [backend] }, /duplicate header "x-a"/);
    refusedWith({ matches: [{ method: 'get' }], backendRefs: [backend] }, /method/);
    refusedWith({ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'Content-Length', value: '1' }] } }], backendRefs: [backend] }, /"Content-Length" cannot be modified/);
    refusedWith({ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x', value: '1' }], remove: ['X'] } }], backendRefs: [backend] }, /more than one action/);
    refusedWith(
      { filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: {} }, { type: 'ResponseHeaderModifier', responseHeaderModifier: {} }], backendRefs: [backend] },
      /cannot be repeated/,
    );
    refusedWith(
      { filters: [{ type: 'RequestRedirect', requestRedirect: {} }, { type: 'URLRewrite', urlRewrite: {} }], backendRefs: [] },
      /exclude each other/,
    );
    refusedWith({ filters: [{ type: 'RequestMirror', requestMirror: { service: 's', fraction: { numerator: 3, denominator: 2 } } }], backendRefs: [backend] }, /numerator/);
    refusedWith({ filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'Not A Host' } }], backendRefs: [backend] }, /hostname/);
    refusedWith({ filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: 'x' } } }], backendRefs: [backend] }, /must start with/);
    refusedWith({ filters: [{ type: 'Mystery' }], backendRefs: [backend] }, /type/);
  });
});

test('timeouts are carried in milliseconds; an attempt may not outlast the request', () => {
  assert.deepEqual(RouteRuleSchema.parse({ backendRefs: [backend], timeouts: { requestMs: 1000, backendRequestMs: 200 } }).timeouts, { requestMs: 1000, backendRequestMs: 200 });
  assert.ok(RouteRuleSchema.safeParse({ backendRefs: [backend], timeouts: { requestMs: 0, backendRequestMs: 200 } }).success, '0 disables the request timeout');
  assert.ok(!RouteRuleSchema.safeParse({ backendRefs: [backend], timeouts: { requestMs: 100, backendRequestMs: 200 } }).success);
  assert.ok(!RouteRuleSchema.safeParse({ backendRefs: [backend], timeouts: { requestMs: -1 } }).success);
});

test('a retry policy is carried on a rule with its defaults; out-of-range values are refused', () => {
  const rule = RouteRuleSchema.parse({ backendRefs: [backend], retry: { statusCodes: [503] } });
  assert.deepEqual(rule.retry, {
    attempts: 2,
    backoff: { baseMs: 25 },
    retryOn: ['connect-failure', 'refused-stream'],
    statusCodes: [503],
    grpcStatuses: [],
    maxReplayBodyBytes: 65_536,
  });
  assert.equal(RouteRuleSchema.parse({ backendRefs: [backend] }).retry, undefined, 'absent: no retries');
  refusedWith({ backendRefs: [backend], retry: { attempts: 101 } }, /^retry\.attempts/);
  refusedWith({ backendRefs: [backend], retry: { statusCodes: [200] } }, /^retry\.statusCodes\.0/);
  refusedWith({ backendRefs: [backend], retry: { retryOn: ['sometimes'] } }, /^retry\.retryOn\.0/);
  refusedWith({ backendRefs: [backend], retry: { backoff: { baseMs: 100, maxMs: 10 } } }, /^retry\.backoff\.maxMs: must not be less than baseMs/);
  refusedWith({ backendRefs: [backend], retry: { perTry: 1 } }, /retry/);
});
