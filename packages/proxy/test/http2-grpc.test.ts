import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  connect as http2Connect,
  constants,
  createServer as createHttp2Server,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
} from 'node:http2';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerDuplexStream,
  type StatusObject,
} from '@grpc/grpc-js';
import {
  ProxyBootstrapSchema,
  ProxySnapshotSchema,
  type AppProtocol,
  type ProxyBootstrapInput,
  type ProxySnapshot,
  type ProxySnapshotInput,
} from '@weft/api';
import { createLogger } from '@weft/core';
import { Proxy } from '@weft/proxy';
import {
  ECHO_METHODS,
  GRPC_ECHO_FAILURE_TRAILER,
  createTestPki,
  createTmpDir,
  echoBytesChunks,
  echoBytesSha256,
  freePort,
  grpcEchoClient,
  startGrpcEcho,
  startHttp1Echo,
  startHttp2Echo,
  type EchoReply,
  type EchoReplyBody,
  type EchoRequest,
  type GrpcEchoClient,
  type TestPki,
  type TmpDir,
} from '@weft/testing';
import { upstreamPortOf } from './http1-mesh-fixture.js';

/**
 * HTTP/2 and gRPC end to end through two proxies: client -> outbound proxy (explicit
 * upstream listener for service `echo`) -> inbound proxy (mesh port) -> application,
 * in the clear (h2c) and with TLS between the proxies.
 */

const run = promisify(execFile);
const logger = createLogger({ level: 'silent' });
const TEST_TIMEOUT = 30_000;

type After = { after: (fn: () => unknown) => void };

const snapshot = (input: Partial<ProxySnapshotInput>): ProxySnapshot =>
  ProxySnapshotSchema.parse({ apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: 'r1', endpointsVersion: 'e1', ...input });

/** The test PKI, made once for the whole file (openssl takes a moment). */
let testPki: TestPki | undefined;
let pkiDir: TmpDir | undefined;
before(async () => {
  pkiDir = await createTmpDir({ prefix: 'h2-pki' });
  testPki = await createTestPki(pkiDir.path, ['client', 'echo']);
});
after(() => pkiDir?.remove());
const pki = (): TestPki => {
  assert.ok(testPki !== undefined, 'the test PKI is made before the tests run');
  return testPki;
};

const transportFor = (p: TestPki | undefined, name: string): ProxySnapshotInput['transport'] => {
  if (p === undefined) return { tls: { mode: 'disabled' } };
  const leaf = p.leaf(name);
  return { tls: { mode: 'static', certFile: leaf.cert, keyFile: leaf.key, caFile: p.ca.cert } };
};

const startProxy = async (t: After, bootstrap: ProxyBootstrapInput, snap: ProxySnapshot): Promise<Proxy> => {
  const proxy = await Proxy.start(ProxyBootstrapSchema.parse(bootstrap), snap, logger);
  t.after(() => proxy.close());
  return proxy;
};

interface Mesh {
  readonly inbound: Proxy;
  readonly outbound: Proxy;
  /** The outbound proxy's listener for service `echo`. */
  readonly port: number;
  /** Listeners of the extra upstreams, by service name. */
  readonly upstreams: Readonly<Record<string, number>>;
}

interface MeshOptions {
  readonly appPort: number;
  readonly appProtocol: AppProtocol;
  readonly tls?: boolean;
  /** Limits of the outbound proxy's snapshot. */
  readonly outboundLimits?: ProxySnapshotInput['limits'];
  /** More services of the outbound snapshot, each also given an upstream listener. */
  readonly extraServices?: readonly { name: string; endpoints: { address: string; port: number }[] }[];
}

/** An inbound proxy in front of the app, and an outbound proxy whose `echo` upstream reaches it. */
const startMesh = async (t: After, opts: MeshOptions): Promise<Mesh> => {
  const p = opts.tls === true ? pki() : undefined;
  const inbound = await startProxy(
    t,
    { service: 'echo', appPort: opts.appPort, appProtocol: opts.appProtocol },
    snapshot({ transport: transportFor(p, 'echo') }),
  );
  const extra = opts.extraServices ?? [];
  const outbound = await startProxy(
    t,
    { service: 'client', upstreams: [{ service: 'echo', port: 0 }, ...extra.map((s) => ({ service: s.name, port: 0 }))] },
    snapshot({
      services: [{ name: 'echo', ports: [{ port: 50051, protocol: 'grpc' }] }, ...extra.map((s) => ({ name: s.name, ports: [{ port: 50051, protocol: 'grpc' as const }] }))],
      endpoints: {
        'echo.default': [{ address: '127.0.0.1', port: inbound.ports.inbound ?? 0 }],
        ...Object.fromEntries(extra.map((s) => [`${s.name}.default`, s.endpoints])),
      },
      transport: transportFor(p, 'client'),
      ...(opts.outboundLimits === undefined ? {} : { limits: opts.outboundLimits }),
    }),
  );
  const port = upstreamPortOf(outbound, 'echo');
  return { inbound, outbound, port, upstreams: outbound.ports.upstreams };
};

const grpcThrough = async (t: After, opts: { tls?: boolean } = {}): Promise<{ client: GrpcEchoClient; mesh: Mesh }> => {
  const server = await startGrpcEcho({ name: 'grpc-app' });
  t.after(server.close);
  const mesh = await startMesh(t, { appPort: server.port, appProtocol: 'grpc', ...opts });
  const client = grpcEchoClient(`127.0.0.1:${mesh.port}`);
  t.after(client.close);
  return { client, mesh };
};

/** An h2c client session to `port`, closed after the test. */
const h2Session = (t: After, port: number): ClientHttp2Session => {
  const session = http2Connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  t.after(() => session.destroy());
  return session;
};

interface H2Result {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly bytes: number;
  readonly sha256: string;
  readonly body: Buffer | undefined;
  readonly rstCode: number | undefined;
}

/** Sends a request and reads the whole response, hashing the body as it streams (kept only if small). */
const h2Fetch = async (session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Iterable<Buffer>): Promise<H2Result> => {
  const stream: ClientHttp2Stream = session.request(headers, { endStream: body === undefined });
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let bytes = 0;
  let trailers: IncomingHttpHeaders | undefined;
  let responseHeaders: IncomingHttpHeaders = {};
  stream.on('response', (h) => {
    responseHeaders = h;
  });
  stream.on('trailers', (tr) => {
    trailers = tr;
  });
  stream.on('data', (c: Buffer) => {
    bytes += c.length;
    hash.update(c);
    if (bytes <= 1 << 20) kept.push(c);
  });
  stream.on('error', () => {});
  const closed = new Promise((resolve) => stream.once('close', resolve));
  const sending = body === undefined ? Promise.resolve() : pipeline(Readable.from(body), stream).catch(() => {});
  await closed;
  await sending;
  return {
    headers: responseHeaders,
    trailers,
    bytes,
    sha256: hash.digest('hex'),
    body: bytes <= 1 << 20 ? Buffer.concat(kept) : undefined,
    rstCode: stream.rstCode,
  };
};

const curlH2 = async (url: string, extra: readonly string[] = []): Promise<{ status: number; version: string; headers: Record<string, string>; body: Buffer }> => {
  const { stdout } = await run('curl', ['-sS', '--http2-prior-knowledge', '--max-time', '10', '-i', ...extra, url], {
    maxBuffer: 16 * 1024 * 1024,
    encoding: 'buffer',
  });
  const split = stdout.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = stdout.subarray(0, split).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  const [version = '', code = '0'] = statusLine.split(' ');
  return { status: Number(code), version, headers, body: stdout.subarray(split + 4) };
};

const weftError = (md: Metadata): string => String(md.get('x-weft-error')[0] ?? '');

for (const tls of [false, true]) {
  const mode = tls ? 'TLS between proxies' : 'h2c between proxies';

  test(`gRPC unary through two proxies (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { client } = await grpcThrough(t, { tls });
    const r = await client.unary({ message: 'hi' }, { metadata: { 'x-trace': 'abc' } });
    assert.equal(r.code, status.OK, r.details);
    assert.equal(r.replies[0]?.message, 'hi');
    assert.equal(r.replies[0]?.metadata['x-trace'], 'abc');
    assert.deepEqual(r.headers.get('x-served-by'), ['grpc-app']);
    assert.deepEqual(r.trailers.get('x-served-by'), ['grpc-app']);
  });

  test(`gRPC server streaming through two proxies (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { client } = await grpcThrough(t, { tls });
    const r = await client.serverStream({ message: 'tick', count: 50 });
    assert.equal(r.code, status.OK, r.details);
    assert.deepEqual(
      r.replies.map((x) => x.index),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.deepEqual(r.trailers.get('x-served-by'), ['grpc-app']);
  });

  test(`gRPC client streaming through two proxies (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { client } = await grpcThrough(t, { tls });
    const reqs = Array.from({ length: 100 }, (_, i) => ({ message: String(i % 10), number: i }));
    const r = await client.clientStream(reqs);
    assert.equal(r.code, status.OK, r.details);
    assert.equal(r.replies[0]?.sum, 4950);
    assert.equal(r.replies[0]?.index, 100);
    assert.equal(r.replies[0]?.message, reqs.map((x) => x.message).join(''));
  });

  test(`gRPC bidi streaming through two proxies, interleaved (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { client } = await grpcThrough(t, { tls });
    const all = await client.bidiStream([{ message: 'x' }, { message: 'y' }, { message: 'z' }]);
    assert.equal(all.code, status.OK, all.details);
    assert.deepEqual(
      all.replies.map((x) => `${x.index}:${x.message}`),
      ['0:x', '1:y', '2:z'],
    );
    // Ping-pong: each reply must come back before the next request is written, which only
    // works if neither proxy buffers a direction.
    const call = client.openBidi();
    const replies: EchoReply[] = [];
    for (let i = 0; i < 5; i++) {
      const next = once(call, 'data') as Promise<[EchoReply]>;
      call.write({ message: `m${i}` });
      const [reply] = await next;
      replies.push(reply);
    }
    call.end();
    const [st] = (await once(call, 'status')) as [StatusObject];
    assert.equal(st.code, status.OK);
    assert.deepEqual(
      replies.map((r) => r.message),
      ['m0', 'm1', 'm2', 'm3', 'm4'],
    );
  });

  test(`many concurrent gRPC calls share one session per hop (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const { client, mesh } = await grpcThrough(t, { tls });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => client.unary({ message: `c${i}` })));
    assert.ok(results.every((r, i) => r.code === status.OK && r.replies[0]?.message === `c${i}`));
    assert.equal(mesh.outbound.http2Sessions.upstream, 1, 'one session from the outbound proxy to the inbound one');
    assert.equal(mesh.inbound.http2Sessions.upstream, 1, 'one session from the inbound proxy to the app');
  });
}

test('a non-OK status and custom trailers arrive intact (Trailers-Only and after messages)', { timeout: TEST_TIMEOUT }, async (t) => {
  const { client } = await grpcThrough(t, { tls: true });
  const unary = await client.unary({ message: 'x', failWithCode: status.FAILED_PRECONDITION, failMessage: 'not now: 100% ünicode' });
  assert.equal(unary.code, status.FAILED_PRECONDITION);
  assert.equal(unary.details, 'not now: 100% ünicode');
  assert.deepEqual(unary.trailers.get(GRPC_ECHO_FAILURE_TRAILER), ['requested']);
  assert.deepEqual(unary.trailers.get('x-served-by'), ['grpc-app']);
  assert.equal(unary.trailers.get('x-weft-error').length, 0, 'an application status is not a proxy error');

  const stream = await client.serverStream({ message: 's', count: 3, failWithCode: status.RESOURCE_EXHAUSTED, failMessage: 'quota' });
  assert.equal(stream.code, status.RESOURCE_EXHAUSTED);
  assert.equal(stream.details, 'quota');
  assert.equal(stream.replies.length, 3);
  assert.deepEqual(stream.trailers.get(GRPC_ECHO_FAILURE_TRAILER), ['requested']);
});

test('a deadline expires through two proxies', { timeout: TEST_TIMEOUT }, async (t) => {
  const { client } = await grpcThrough(t);
  const started = Date.now();
  const r = await client.unary({ message: 'slow', delayMs: 5_000 }, { deadlineMs: 300 });
  assert.equal(r.code, status.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - started < 3_000, 'the deadline was honoured, not the server delay');
  // The proxies are not left in a bad state by the cancelled stream.
  const ok = await client.unary({ message: 'after' });
  assert.equal(ok.code, status.OK);
});

test('a client cancel reaches the server through two proxies', { timeout: TEST_TIMEOUT }, async (t) => {
  // A bidi server that records when its call is cancelled.
  const m = ECHO_METHODS.BidiStream;
  let cancelled!: () => void;
  const sawCancel = new Promise<void>((resolve) => {
    cancelled = resolve;
  });
  const server = new Server();
  server.addService(
    {
      BidiStream: {
        path: m.path,
        requestStream: true,
        responseStream: true,
        requestSerialize: m.serializeRequest,
        requestDeserialize: m.deserializeRequest,
        responseSerialize: m.serializeReply,
        responseDeserialize: m.deserializeReply,
      },
    },
    {
      BidiStream: (call: ServerDuplexStream<EchoRequest, EchoReply>) => {
        call.on('cancelled', () => cancelled());
        call.on('error', () => {});
        call.on('data', (req: EchoRequest) => call.write({ message: req.message, index: 0, sum: 0, servedBy: 'cancel', metadata: {} }));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  t.after(() => server.forceShutdown());
  const mesh = await startMesh(t, { appPort: port, appProtocol: 'grpc', tls: true });
  const client = grpcEchoClient(`127.0.0.1:${mesh.port}`);
  t.after(client.close);

  const call = client.openBidi();
  call.on('error', () => {});
  const first = once(call, 'data');
  call.write({ message: 'one' });
  await first;
  const ended = new Promise<StatusObject>((resolve) => call.once('status', resolve));
  call.cancel();
  const st = await ended;
  assert.equal(st.code, status.CANCELLED);
  await Promise.race([sawCancel, sleep(5_000).then(() => assert.fail('the server never saw the cancel'))]);
});

test('proxy errors reach gRPC clients as statuses with x-weft-error in trailers (NR, UH, UF)', { timeout: TEST_TIMEOUT }, async (t) => {
  const server = await startGrpcEcho();
  t.after(server.close);
  const closedPort = await freePort();
  const mesh = await startMesh(t, {
    appPort: server.port,
    appProtocol: 'grpc',
    extraServices: [
      { name: 'empty', endpoints: [] },
      { name: 'down', endpoints: [{ address: '127.0.0.1', port: closedPort }] },
    ],
  });
  // NR: an upstream listener for a service this proxy has no config for.
  const nr = await startProxy(t, { service: 'lonely', upstreams: [{ service: 'nosuch', port: 0 }] }, snapshot({}));

  const call = async (port: number | undefined): Promise<{ code: number; trailers: Metadata; details: string }> => {
    assert.ok(port !== undefined);
    const c = grpcEchoClient(`127.0.0.1:${port}`);
    t.after(c.close);
    return c.unary({ message: 'x' });
  };

  const r404 = await call(upstreamPortOf(nr, 'nosuch'));
  assert.equal(r404.code, status.UNIMPLEMENTED);
  assert.match(weftError(r404.trailers), /WEFT_ERR_PROXY_NO_ROUTE \(NR\) at outbound/);

  const uh = await call(mesh.upstreams['empty']);
  assert.equal(uh.code, status.UNAVAILABLE);
  assert.match(weftError(uh.trailers), /WEFT_ERR_PROXY_NO_HEALTHY_UPSTREAM \(UH\).*service=empty\.default/);

  const uf = await call(mesh.upstreams['down']);
  assert.equal(uf.code, status.UNAVAILABLE);
  assert.match(weftError(uf.trailers), /WEFT_ERR_PROXY_UPSTREAM_CONNECT \(UF\).*endpoint=127\.0\.0\.1:\d+/);
  assert.match(uf.details, /\(UF\)/);
});

test('an application that is down, and a response timeout, reach gRPC clients with the hop that failed', { timeout: TEST_TIMEOUT }, async (t) => {
  const closedPort = await freePort();
  const down = await startMesh(t, { appPort: closedPort, appProtocol: 'grpc' });
  const c1 = grpcEchoClient(`127.0.0.1:${down.port}`);
  t.after(c1.close);
  const uf = await c1.unary({ message: 'x' });
  assert.equal(uf.code, status.UNAVAILABLE);
  assert.match(weftError(uf.trailers), /WEFT_ERR_PROXY_UPSTREAM_CONNECT \(UF\) at inbound proxy=echo\.default.*endpoint=app/);

  const server = await startGrpcEcho();
  t.after(server.close);
  const slow = await startMesh(t, { appPort: server.port, appProtocol: 'grpc', outboundLimits: { responseTimeoutMs: 200 } });
  const c2 = grpcEchoClient(`127.0.0.1:${slow.port}`);
  t.after(c2.close);
  const started = Date.now();
  const ut = await c2.unary({ message: 'slow', delayMs: 3_000 });
  assert.equal(ut.code, status.DEADLINE_EXCEEDED);
  assert.match(weftError(ut.trailers), /WEFT_ERR_PROXY_UPSTREAM_TIMEOUT \(UT\) at outbound/);
  assert.ok(Date.now() - started < 2_000);
  const fast = await c2.unary({ message: 'fast' });
  assert.equal(fast.code, status.OK);
});

test('request headers over the limit get 431, on the first stream of a connection too', { timeout: TEST_TIMEOUT }, async (t) => {
  const app = await startHttp2Echo();
  t.after(app.close);
  const mesh = await startMesh(t, { appPort: app.port, appProtocol: 'http2' });
  const r = await curlH2(`http://127.0.0.1:${mesh.port}/hello`, ['-H', `x-big: ${'x'.repeat(20_000)}`]);
  assert.equal(r.status, 431);
  assert.match(r.headers['x-weft-error'] ?? '', /WEFT_ERR_HTTP_HEADERS_TOO_LARGE/);
  assert.equal(app.requests, 0);
  const ok = await curlH2(`http://127.0.0.1:${mesh.port}/hello`, ['-H', `x-fine: ${'x'.repeat(2_000)}`]);
  assert.equal(ok.status, 200);
});

test('a stream the application refuses is retried once when it had no body, and refused to the client in the end', { timeout: TEST_TIMEOUT }, async (t) => {
  // An h2c app that refuses every stream (as a server shutting down does with REFUSED_STREAM).
  let streams = 0;
  const refuser = createHttp2Server();
  refuser.on('stream', (stream) => {
    streams++;
    stream.on('error', () => {});
    stream.close(constants.NGHTTP2_REFUSED_STREAM);
  });
  const sessions = new Set<ServerHttp2Session>();
  refuser.on('session', (s: ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        refuser.close(() => resolve());
        for (const s of sessions) s.destroy();
      }),
  );
  const address = refuser.address();
  assert.ok(address !== null && typeof address === 'object');
  const mesh = await startMesh(t, { appPort: address.port, appProtocol: 'http2' });
  const session = h2Session(t, mesh.port);

  const get = await h2Fetch(session, { ':path': '/hello' });
  assert.equal(get.rstCode, constants.NGHTTP2_REFUSED_STREAM);
  assert.equal(streams, 4, 'each proxy tried twice');

  streams = 0;
  const post = await h2Fetch(session, { ':method': 'POST', ':path': '/echo' }, [Buffer.from('body')]);
  assert.equal(post.rstCode, constants.NGHTTP2_REFUSED_STREAM);
  assert.equal(streams, 1, 'a request with a body is not sent twice');
});

test('proxy errors reach plain HTTP/2 clients as statuses with x-weft-error', { timeout: TEST_TIMEOUT }, async (t) => {
  const app = await startHttp2Echo();
  t.after(app.close);
  const mesh = await startMesh(t, { appPort: app.port, appProtocol: 'http2', extraServices: [{ name: 'empty', endpoints: [] }] });
  const port = mesh.upstreams['empty'];
  assert.ok(port !== undefined);
  const r = await h2Fetch(h2Session(t, port), { ':path': '/hello' });
  assert.equal(r.headers[':status'], 503);
  assert.match(String(r.headers['x-weft-error']), /\(UH\)/);
  assert.match(r.body?.toString() ?? '', /WEFT_ERR_PROXY_NO_HEALTHY_UPSTREAM/);
});

test('curl --http2-prior-knowledge through two proxies to an h2c app', { timeout: TEST_TIMEOUT }, async (t) => {
  const app = await startHttp2Echo({ name: 'h2-app' });
  t.after(app.close);
  const mesh = await startMesh(t, { appPort: app.port, appProtocol: 'http2' });
  const r = await curlH2(`http://127.0.0.1:${mesh.port}/echo?x=1`, ['-H', 'x-test: yes', '--data-binary', 'hello']);
  assert.equal(r.version, 'HTTP/2');
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-served-by'], 'h2-app');
  const body = JSON.parse(r.body.toString()) as EchoReplyBody;
  assert.equal(body.httpVersion, '2.0');
  assert.equal(body.method, 'POST');
  assert.equal(body.url, '/echo?x=1');
  assert.equal(body.bodyBytes, 5);
  assert.equal(body.headers['x-test'], 'yes');
  assert.equal(app.sessions, 1);
});

test('curl --http2-prior-knowledge through two proxies to an HTTP/1.1 app (translated)', { timeout: TEST_TIMEOUT }, async (t) => {
  const app = await startHttp1Echo({ name: 'h1-app' });
  t.after(app.close);
  const mesh = await startMesh(t, { appPort: app.port, appProtocol: 'http', tls: true });
  const r = await curlH2(`http://127.0.0.1:${mesh.port}/echo`, ['-H', 'x-test: yes', '--data-binary', 'hello h1']);
  assert.equal(r.version, 'HTTP/2');
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-served-by'], 'h1-app');
  const body = JSON.parse(r.body.toString()) as EchoReplyBody;
  assert.equal(body.httpVersion, '1.1');
  assert.equal(body.method, 'POST');
  assert.equal(body.bodyBytes, 8);
  assert.equal(body.headers['host'], `127.0.0.1:${mesh.port}`);
  assert.equal(body.headers['x-test'], 'yes');
  const status404 = await curlH2(`http://127.0.0.1:${mesh.port}/status/404`);
  assert.equal(status404.status, 404);
  const bytes = await curlH2(`http://127.0.0.1:${mesh.port}/bytes/100000`);
  assert.equal(bytes.status, 200);
  assert.equal(createHash('sha256').update(bytes.body).digest('hex'), echoBytesSha256(100000));
  // Keep-alive towards the app: the three requests shared a connection.
  assert.equal(app.connections, 1);
});

test('HTTP/2 response trailers and an upstream reset pass through two proxies', { timeout: TEST_TIMEOUT }, async (t) => {
  const app = await startHttp2Echo();
  t.after(app.close);
  const mesh = await startMesh(t, { appPort: app.port, appProtocol: 'http2', tls: true });
  const session = h2Session(t, mesh.port);
  const withTrailer = await h2Fetch(session, { ':path': '/bytes/100000?trailer=1' });
  assert.equal(withTrailer.headers[':status'], 200);
  assert.equal(withTrailer.sha256, echoBytesSha256(100000));
  assert.equal(withTrailer.trailers?.['x-sha256-trailer'], echoBytesSha256(100000));

  const reset = await h2Fetch(session, { ':path': '/reset' });
  assert.equal(reset.headers[':status'], 200, 'the head went out before the reset');
  assert.equal(reset.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
  // The session survives a reset stream.
  const after = await h2Fetch(session, { ':path': '/hello' });
  assert.equal(after.headers[':status'], 200);
});

test('a 20 MB HTTP/2 upload and download stream through two proxies (TLS between them)', { timeout: 60_000 }, async (t) => {
  const app = await startHttp2Echo();
  t.after(app.close);
  const mesh = await startMesh(t, { appPort: app.port, appProtocol: 'http2', tls: true });
  const session = h2Session(t, mesh.port);
  const size = 20 * 1024 * 1024;

  const up = await h2Fetch(session, { ':method': 'POST', ':path': '/echo', 'content-type': 'application/octet-stream' }, echoBytesChunks(size));
  assert.equal(up.headers[':status'], 200);
  const body = JSON.parse(up.body?.toString() ?? '{}') as EchoReplyBody;
  assert.equal(body.bodyBytes, size);
  assert.equal(body.bodySha256, echoBytesSha256(size));

  const down = await h2Fetch(session, { ':path': `/bytes/${size}` });
  assert.equal(down.headers[':status'], 200);
  assert.equal(down.bytes, size);
  assert.equal(down.sha256, down.headers['x-sha256']);
  assert.equal(down.sha256, echoBytesSha256(size));
});

test('a drain lets gRPC calls in flight finish (GOAWAY), then refuses new ones', { timeout: TEST_TIMEOUT }, async (t) => {
  const { client, mesh } = await grpcThrough(t, { tls: true });
  const warm = await client.unary({ message: 'warm' });
  assert.equal(warm.code, status.OK);
  const slow = client.serverStream({ message: 's', count: 5, delayMs: 100 });
  await sleep(150);
  // The inbound proxy drains first (GOAWAY towards the outbound one), then the outbound one.
  const inboundDrained = mesh.inbound.drain(5_000);
  const outboundDrained = mesh.outbound.drain(5_000);
  const r = await slow;
  assert.equal(r.code, status.OK, r.details);
  assert.equal(r.replies.length, 5);
  await Promise.all([inboundDrained, outboundDrained]);
  const refused = await client.unary({ message: 'late' }, { deadlineMs: 2_000 });
  assert.notEqual(refused.code, status.OK);
});

test('a config swap moves new calls to the new endpoint while streams in flight finish', { timeout: TEST_TIMEOUT }, async (t) => {
  const a = await startGrpcEcho({ name: 'app-a' });
  t.after(a.close);
  const b = await startGrpcEcho({ name: 'app-b' });
  t.after(b.close);
  const mesh = await startMesh(t, { appPort: a.port, appProtocol: 'grpc', tls: true });
  const inboundB = await startProxy(t, { service: 'echo', appPort: b.port, appProtocol: 'grpc' }, mesh.inbound.config.snapshot);
  const client = grpcEchoClient(`127.0.0.1:${mesh.port}`);
  t.after(client.close);

  const before = await client.unary({ message: 'one' });
  assert.equal(before.replies[0]?.servedBy, 'app-a');
  const inFlight = client.serverStream({ message: 's', count: 6, delayMs: 100 });
  await sleep(150);
  const current = mesh.outbound.config.snapshot;
  mesh.outbound.apply({
    ...current,
    endpointsVersion: 'e2',
    endpoints: { 'echo.default': [{ address: '127.0.0.1', port: inboundB.ports.inbound ?? 0, labels: {}, weight: 1 }] },
  });
  const after = await client.unary({ message: 'two' });
  assert.equal(after.code, status.OK, after.details);
  assert.equal(after.replies[0]?.servedBy, 'app-b');
  const r = await inFlight;
  assert.equal(r.code, status.OK, r.details);
  assert.equal(r.replies.length, 6);
  assert.ok(r.replies.every((x) => x.servedBy === 'app-a'));
  // The session to the endpoint that left closes once its stream is done.
  const deadline = Date.now() + 5_000;
  while (mesh.outbound.http2Sessions.upstream !== 1 && Date.now() < deadline) await sleep(50);
  assert.equal(mesh.outbound.http2Sessions.upstream, 1);
});
