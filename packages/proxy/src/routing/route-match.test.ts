import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RouteMatchSchema, type RouteMatch } from '@weft/api/data-plane';
import { compileMatch } from './route-match.js';
import { Http1RouteRequest, Http2RouteRequest, pathOf, queryParam, type RouteRequest } from './route-request.js';

const match = (m: unknown): ((req: RouteRequest) => boolean) => {
  const c = compileMatch(RouteMatchSchema.parse(m) as RouteMatch);
  return (req) => c.test(req, pathOf(req.target));
};

/** An HTTP/1.1 request with raw headers as a client wrote them. */
const h1 = (method: string, target: string, headers: Record<string, string | string[]> = {}): RouteRequest => {
  const raw: string[] = [];
  for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) raw.push(k, x);
  return new Http1RouteRequest(method, target, raw);
};

const grpcCall = (path: string, headers: Record<string, string> = {}): RouteRequest =>
  new Http2RouteRequest('POST', path, { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', ...headers }, true);

describe('route matches', () => {
  test('PathPrefix matches whole segments, ignoring the query and a trailing "/" of the prefix', () => {
    for (const value of ['/api', '/api/']) {
      const m = match({ path: { type: 'PathPrefix', value } });
      for (const t of ['/api', '/api/', '/api/v1', '/api?x=1', '/api/v1?x']) assert.ok(m(h1('GET', t)), `${value} matches ${t}`);
      for (const t of ['/apix', '/ap', '/', '/v1/api']) assert.ok(!m(h1('GET', t)), `${value} does not match ${t}`);
    }
    assert.ok(match({})(h1('GET', '/anything')), 'the default match takes every request');
  });

  test('Exact matches the whole path, query aside', () => {
    const m = match({ path: { type: 'Exact', value: '/health' } });
    assert.ok(m(h1('GET', '/health')));
    assert.ok(m(h1('GET', '/health?verbose=1')));
    assert.ok(!m(h1('GET', '/health/')));
    assert.ok(!m(h1('GET', '/healthz')));
  });

  test('RegularExpression matches the whole path, never the query', () => {
    const m = match({ path: { type: 'RegularExpression', value: '/v[0-9]+/users' } });
    assert.ok(m(h1('GET', '/v2/users')));
    assert.ok(m(h1('GET', '/v2/users?id=1')));
    assert.ok(!m(h1('GET', '/v2/users/1')), 'anchored at the end');
    assert.ok(!m(h1('GET', '/x/v2/users')), 'anchored at the start');
    const q = match({ path: { type: 'RegularExpression', value: '/a.*' } });
    assert.ok(q(h1('GET', '/a?b')), 'the query is not part of what ".*" sees');
  });

  test('method', () => {
    const m = match({ method: 'POST' });
    assert.ok(m(h1('POST', '/')));
    assert.ok(!m(h1('GET', '/')));
    assert.ok(!m(h1('post', '/')), 'methods are case-sensitive');
  });

  test('headers: names without case, values exactly or by expression; repeated fields joined with ","', () => {
    const exact = match({ headers: [{ name: 'X-User', value: 'beta' }] });
    assert.ok(exact(h1('GET', '/', { 'x-user': 'beta' })));
    assert.ok(exact(h1('GET', '/', { 'X-USER': 'beta' })));
    assert.ok(!exact(h1('GET', '/', { 'x-user': 'Beta' })), 'values are case-sensitive');
    assert.ok(!exact(h1('GET', '/')), 'an absent header does not match');
    assert.ok(!exact(h1('GET', '/', { 'x-user': ['beta', 'alpha'] })));
    assert.ok(match({ headers: [{ name: 'x-user', value: 'beta,alpha' }] })(h1('GET', '/', { 'x-user': ['beta', 'alpha'] })));
    const re = match({ headers: [{ type: 'RegularExpression', name: 'x-id', value: '[0-9]{3}' }] });
    assert.ok(re(h1('GET', '/', { 'x-id': '123' })));
    assert.ok(!re(h1('GET', '/', { 'x-id': '1234' })), 'anchored');
    const h2 = new Http2RouteRequest('GET', '/', { 'x-id': '123', 'x-multi': ['a=1', 'b=2'] }, false);
    assert.ok(re(h2));
    assert.ok(match({ headers: [{ name: 'x-multi', value: 'a=1,b=2' }] })(h2));
    const both = match({ headers: [{ name: 'a', value: '1' }, { name: 'b', value: '2' }] });
    assert.ok(both(h1('GET', '/', { a: '1', b: '2' })));
    assert.ok(!both(h1('GET', '/', { a: '1' })), 'every header must match');
  });

  test('query parameters: exact name, first value, decoded; by expression', () => {
    const m = match({ queryParams: [{ name: 'version', value: 'v2' }] });
    assert.ok(m(h1('GET', '/?version=v2')));
    assert.ok(m(h1('GET', '/x?a=1&version=v2&b')));
    assert.ok(!m(h1('GET', '/?version=v1&version=v2')), 'the first value is the one matched');
    assert.ok(!m(h1('GET', '/?Version=v2')), 'names are case-sensitive');
    assert.ok(!m(h1('GET', '/version=v2')), 'not in the path');
    assert.ok(match({ queryParams: [{ name: 'q', value: 'a b/c' }] })(h1('GET', '/?q=a+b%2Fc')));
    const re = match({ queryParams: [{ type: 'RegularExpression', name: 'id', value: '[0-9]+' }] });
    assert.ok(re(h1('GET', '/?id=42')));
    assert.ok(!re(h1('GET', '/?id=42x')));
    assert.ok(!re(h1('GET', '/?id')), 'a parameter without value is ""');
  });

  test('gRPC: only gRPC calls, by service and method', () => {
    const exact = match({ grpc: { service: 'helloworld.Greeter', method: 'SayHello' } });
    assert.ok(exact(grpcCall('/helloworld.Greeter/SayHello')));
    assert.ok(!exact(grpcCall('/helloworld.Greeter/SayGoodbye')));
    assert.ok(!exact(grpcCall('/helloworld.Greeter/SayHello/x')), 'not a gRPC path');
    assert.ok(!exact(h1('POST', '/helloworld.Greeter/SayHello')), 'not a gRPC call');
    assert.ok(exact(h1('POST', '/helloworld.Greeter/SayHello', { 'content-type': 'application/grpc+proto' })), 'gRPC over HTTP/1.1 (gRPC-Web) counts');
    const service = match({ grpc: { service: 'helloworld.Greeter' } });
    assert.ok(service(grpcCall('/helloworld.Greeter/Anything')));
    assert.ok(!service(grpcCall('/helloworld.GreeterV2/Anything')));
    const method = match({ grpc: { method: 'SayHello' } });
    assert.ok(method(grpcCall('/any.Service/SayHello')));
    const re = match({ grpc: { type: 'RegularExpression', service: 'helloworld\\..*', method: 'Say.*' } });
    assert.ok(re(grpcCall('/helloworld.Greeter/SayHello')));
    assert.ok(!re(grpcCall('/other.Greeter/SayHello')));
    const any = match({ grpc: {} });
    assert.ok(any(grpcCall('/a/b')));
    assert.ok(!any(h1('GET', '/a/b')));
    const meta = match({ grpc: { service: 's.S' }, headers: [{ name: 'x-canary', value: 'true' }] });
    assert.ok(meta(grpcCall('/s.S/M', { 'x-canary': 'true' })));
    assert.ok(!meta(grpcCall('/s.S/M')));
  });

  test('every condition of a match must hold', () => {
    const m = match({ path: { value: '/api' }, method: 'GET', headers: [{ name: 'x-a', value: '1' }], queryParams: [{ name: 'q', value: '1' }] });
    assert.ok(m(h1('GET', '/api/x?q=1', { 'x-a': '1' })));
    assert.ok(!m(h1('POST', '/api/x?q=1', { 'x-a': '1' })));
    assert.ok(!m(h1('GET', '/other?q=1', { 'x-a': '1' })));
    assert.ok(!m(h1('GET', '/api/x?q=2', { 'x-a': '1' })));
    assert.ok(!m(h1('GET', '/api/x?q=1', { 'x-a': '2' })));
  });

  test('a PathPrefix match knows the prefix ReplacePrefixMatch replaces', () => {
    assert.equal(compileMatch(RouteMatchSchema.parse({ path: { value: '/foo/' } })).prefix, '/foo');
    assert.equal(compileMatch(RouteMatchSchema.parse({ path: { value: '/' } })).prefix, '');
    assert.equal(compileMatch(RouteMatchSchema.parse({ path: { type: 'Exact', value: '/foo' } })).prefix, undefined);
  });

  test('an expression the snapshot schema refuses cannot be compiled', () => {
    assert.throws(() => compileMatch({ path: { type: 'RegularExpression', value: '(a+)+' } }), /repeats a group/);
  });
});

describe('query parameters', () => {
  test('lookup', () => {
    assert.equal(queryParam('/p', 'a'), undefined);
    assert.equal(queryParam('/p?', 'a'), undefined);
    assert.equal(queryParam('/p?a', 'a'), '');
    assert.equal(queryParam('/p?a=', 'a'), '');
    assert.equal(queryParam('/p?a=1&a=2', 'a'), '1');
    assert.equal(queryParam('/p?&&b=2&', 'b'), '2');
    assert.equal(queryParam('/p?x%20y=z', 'x y'), 'z');
    assert.equal(queryParam('/p?a=%zz', 'a'), '%zz', 'a malformed escape stays as it is');
    assert.equal(queryParam('/p?ab=1', 'a'), undefined);
  });
});
