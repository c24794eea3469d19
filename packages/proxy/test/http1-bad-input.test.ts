/**
 * Bad input gets a clear answer and breaks nothing: raw sockets to the outbound explicit
 * listener and to the inbound mesh port of real `weft proxy` processes; upstream failures
 * (reset, refused, no endpoints, unknown service, timeout); invalid snapshot files.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ProxyBootstrapSchema, ProxySnapshotSchema } from '@weft/api';
import { createLogger } from '@weft/core';
import { createTmpDir, HELLO_BODY, RESET_PARTIAL_BYTES, startHttp1Echo, startWeft, type Http1Echo, type TmpDir } from '@weft/testing';
import { adminGet, curl, eventually, parseResponses, type ProxyProcess, rawClient, rawRequest, type RawResponse, snapshot, startProxy, suiteContext, upstreamPortOf } from './http1-mesh-fixture.js';
import { Proxy } from '../src/index.js';

/** A TCP server that reads a request head and resets the connection without answering. */
const startResetter = async (): Promise<{ port: number; close: () => Promise<void> }> => {
  const open = new Set<Socket>();
  const server: Server = createServer((s) => {
    open.add(s);
    s.on('error', () => {});
    s.once('close', () => open.delete(s));
    s.on('data', () => s.resetAndDestroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
};

const LIMITS = {
  maxRequestHeadersBytes: 2048,
  maxRequestBodyBytes: 64 * 1024,
  headersTimeoutMs: 300,
};

/** The x-weft-error header of a response, asserted present. */
const weftError = (r: RawResponse): string => {
  const h = r.headers['x-weft-error'];
  assert.ok(h !== undefined && h !== '', `no x-weft-error header on ${r.status}`);
  return h;
};

describe('bad input and upstream failures', () => {
  const ctx = suiteContext();
  let dir: TmpDir;
  let app: Http1Echo;
  let inbound: ProxyProcess;
  let resetInbound: ProxyProcess;
  let outbound: ProxyProcess;
  let outPort: number;
  let inPort: number;
  let httpProxy: number;
  let outboundSnapshot: object;

  before(async () => {
    dir = await createTmpDir({ prefix: 'bad-input', t: ctx as { after: (fn: () => Promise<void>) => void } });
    app = await startHttp1Echo({ name: 'app' });
    ctx.after(app.close);
    const resetter = await startResetter();
    ctx.after(resetter.close);
    // Nothing listens on port 1 of loopback (a port picked free now could be taken by
    // another process before the test dials it).
    const deadPort = 1;
    inbound = await startProxy(ctx, dir, snapshot({ limits: LIMITS }), ['--service', 'svc', '--port', '0', '--app-port', String(app.port)]);
    resetInbound = await startProxy(ctx, dir, snapshot({}), ['--service', 'resetter', '--port', '0', '--app-port', String(resetter.port)]);
    inPort = inbound.ports.inbound as number;
    outboundSnapshot = snapshot({
      services: [
        { name: 'svc', ports: [{ port: 9080 }] },
        { name: 'resetter' },
        { name: 'direct-reset' },
        { name: 'dead' },
        { name: 'empty' },
      ],
      endpoints: {
        'svc.default': [{ address: '127.0.0.1', port: inPort }],
        'resetter.default': [{ address: '127.0.0.1', port: resetInbound.ports.inbound as number }],
        'direct-reset.default': [{ address: '127.0.0.1', port: resetter.port }],
        'dead.default': [{ address: '127.0.0.1', port: deadPort }],
        'empty.default': [],
      },
      // Only the outbound hop times out, so that the 504 is its own.
      limits: { ...LIMITS, responseTimeoutMs: 1000 },
    });
    outbound = await startProxy(ctx, dir, outboundSnapshot, ['--service', 'client', '--upstream', 'svc:0', '--http-proxy-port', '0']);
    outPort = upstreamPortOf(outbound, 'svc');
    httpProxy = outbound.ports.httpProxy as number;
  });
  after(() => ctx.cleanup());

  /** After every bad request, both listeners still serve good ones. */
  const assertStillServes = async (): Promise<void> => {
    for (const port of [outPort, inPort]) {
      const r = await rawRequest(port, 'GET /hello HTTP/1.1\r\nHost: svc\r\n\r\n');
      assert.equal(r.status, 200, `port ${port} after a bad request`);
      assert.deepEqual(r.body, HELLO_BODY);
    }
  };

  /**
   * Sends `request` to both listeners on fresh connections; each must get `status` with
   * an x-weft-error naming `code`, the connection must close, and the app must see nothing.
   */
  const rejectsOnBoth = async (request: string, status: number, code: string): Promise<void> => {
    for (const port of [outPort, inPort]) {
      const before = app.requests;
      const c = await rawClient(port);
      c.write(request);
      const [r] = await c.responses(1);
      assert.ok(r !== undefined);
      assert.equal(r.status, status, `port ${port}: ${JSON.stringify(request)}`);
      assert.match(weftError(r), new RegExp(`^${code} \\(DPE\\) at ${port === outPort ? 'outbound' : 'inbound'} `));
      assert.equal(r.headers['connection'], 'close');
      await c.closed;
      assert.equal(app.requests, before, `port ${port}: the app must not see ${JSON.stringify(request)}`);
    }
    await assertStillServes();
  };

  test('malformed request lines get 400 with x-weft-error', async () => {
    for (const bad of [
      'GARBAGE\r\n\r\n',
      'GET /hello HTTP/1.1 extra\r\nHost: x\r\n\r\n',
      'GET /hel lo HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /hello HTTP/7.3\r\nHost: x\r\n\r\n',
      '\x00\x01\x02\x03\r\n\r\n',
    ]) {
      await rejectsOnBoth(bad, 400, 'WEFT_ERR_HTTP_BAD_REQUEST');
    }
  });

  test('malformed headers get 400', async () => {
    for (const bad of [
      'GET /hello HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n',
      'GET /hello HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n',
      'GET /hello HTTP/1.1\r\nHost: x\r\nX-Ctl: a\x01b\r\n\r\n',
    ]) {
      await rejectsOnBoth(bad, 400, 'WEFT_ERR_HTTP_BAD_REQUEST');
    }
  });

  test('a request head over limits.maxRequestHeadersBytes gets 431', async () => {
    await rejectsOnBoth(`GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(3000)}\r\n\r\n`, 431, 'WEFT_ERR_HTTP_HEADERS_TOO_LARGE');
    // Many small headers add up the same way.
    const many = Array.from({ length: 200 }, (_, i) => `X-H${i}: ${'v'.repeat(10)}\r\n`).join('');
    await rejectsOnBoth(`GET /hello HTTP/1.1\r\nHost: x\r\n${many}\r\n`, 431, 'WEFT_ERR_HTTP_HEADERS_TOO_LARGE');
    // Just under the limit is fine.
    const r = await rawRequest(outPort, `GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1500)}\r\n\r\n`);
    assert.equal(r.status, 200);
  });

  test('Content-Length with Transfer-Encoding is rejected (smuggling) and never forwarded', async () => {
    const smuggled = 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n';
    await rejectsOnBoth(
      `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
      400,
      'WEFT_ERR_HTTP_SMUGGLING',
    );
    await rejectsOnBoth(
      `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`,
      400,
      'WEFT_ERR_HTTP_SMUGGLING',
    );
  });

  test('two differing Content-Length headers are rejected', async () => {
    await rejectsOnBoth('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 10\r\n\r\nabcdefghij', 400, 'WEFT_ERR_HTTP_SMUGGLING');
    await rejectsOnBoth('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc', 400, 'WEFT_ERR_HTTP_SMUGGLING');
    await rejectsOnBoth('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 10\r\n\r\nabcdefghij', 400, 'WEFT_ERR_HTTP_BAD_REQUEST');
  });

  test('a Transfer-Encoding without chunked last, or repeated, is rejected and never forwarded', async () => {
    // llhttp reports some of these only after the head is complete: the request must still not leave.
    for (const te of ['chunked, identity', 'gzip', 'identity']) {
      await rejectsOnBoth(`POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`, 400, 'WEFT_ERR_HTTP_SMUGGLING');
    }
    await rejectsOnBoth('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'WEFT_ERR_HTTP_SMUGGLING');
  });

  test('bad chunk framing mid-body aborts the request and answers 400', async () => {
    for (const port of [outPort, inPort]) {
      const c = await rawClient(port);
      c.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n');
      const [r] = await c.responses(1);
      assert.equal(r?.status, 400, `port ${port}`);
      await c.closed;
    }
    await assertStillServes();
  });

  test('pipelined: a bad request behind good ones is answered in order, after them', async () => {
    for (const port of [outPort, inPort]) {
      for (const bad of [
        'GARBAGE\r\n\r\n',
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
        `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${200 * 1024}\r\n\r\n`,
      ]) {
        const c = await rawClient(port);
        c.write(`GET /slow/200 HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n${bad}`);
        const { data } = await c.closed;
        const rs = parseResponses(data).responses;
        assert.deepEqual(
          rs.map((x) => x.status),
          [200, 200, bad.startsWith('GARBAGE') || bad.includes('chunked') ? 400 : 413],
          `port ${port}: ${JSON.stringify(bad)}`,
        );
        assert.deepEqual(rs[0]?.body, HELLO_BODY);
        assert.notEqual(rs[0]?.headers['connection'], 'close');
        assert.equal(rs[2]?.headers['connection'], 'close');
      }
    }
    await assertStillServes();
  });

  test('a body over the limit with a request smuggled behind it: the second request never runs', async () => {
    for (const port of [outPort, inPort]) {
      const before = app.requests;
      const body = 'a'.repeat(100 * 1024);
      const c = await rawClient(port);
      c.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}GET /hello HTTP/1.1\r\nHost: x\r\n\r\n`);
      const { data } = await c.closed;
      const rs = parseResponses(data).responses;
      assert.deepEqual(rs.map((x) => x.status), [413]);
      assert.equal(app.requests, before);
    }
    await assertStillServes();
  });

  test('obsolete line folding is rejected', async () => {
    await rejectsOnBoth('GET /echo HTTP/1.1\r\nHost: x\r\nX-Folded: first\r\n  second\r\n\r\n', 400, 'WEFT_ERR_HTTP_BAD_REQUEST');
    await rejectsOnBoth('GET /echo HTTP/1.1\r\nHost: x\r\nX-Folded: first\r\n\tsecond\r\n\r\n', 400, 'WEFT_ERR_HTTP_BAD_REQUEST');
  });

  test('a body over limits.maxRequestBodyBytes gets 413: declared Content-Length', async () => {
    for (const port of [outPort, inPort]) {
      const before = app.requests;
      const c = await rawClient(port);
      c.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${200 * 1024}\r\n\r\n`);
      const [r] = await c.responses(1);
      assert.ok(r !== undefined);
      assert.equal(r.status, 413);
      assert.match(weftError(r), /^WEFT_ERR_HTTP_BODY_TOO_LARGE \(DPE\)/);
      await c.closed;
      assert.equal(app.requests, before, 'a request refused by its declared length never reaches the app');
    }
    await assertStillServes();
  });

  test('a body over limits.maxRequestBodyBytes gets 413: chunked, found while streaming', async () => {
    for (const port of [outPort, inPort]) {
      const c = await rawClient(port);
      c.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      const piece = Buffer.alloc(16 * 1024, 0x62);
      for (let i = 0; i < 8; i++) c.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]));
      const [r] = await c.responses(1);
      assert.ok(r !== undefined);
      assert.equal(r.status, 413, `port ${port}`);
      assert.match(weftError(r), /^WEFT_ERR_HTTP_BODY_TOO_LARGE \(DPE\)/);
      await c.closed;
    }
    // Under the limit, chunked, is fine.
    const ok = await rawRequest(outPort, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    assert.equal(ok.status, 200);
    assert.equal((JSON.parse(ok.body.toString()) as { bodyBytes: number }).bodyBytes, 5);
    await assertStillServes();
  });

  test('a client stalling mid-headers gets 408 and its socket is closed', async () => {
    for (const port of [outPort, inPort]) {
      const c = await rawClient(port);
      c.write('GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow');
      // The proxy closes it by itself (headersTimeoutMs is 300 ms); the bound is generous.
      const closed = await Promise.race([c.closed, new Promise<'open'>((r) => setTimeout(() => r('open'), 5000))]);
      assert.notEqual(closed, 'open', `port ${port}: a stalled client must be disconnected`);
      const [r] = (await c.responses(1).catch(() => [])) as RawResponse[];
      assert.ok(r !== undefined, `port ${port}: no 408 before the close: ${c.received().toString()}`);
      assert.equal(r.status, 408);
      assert.match(weftError(r), /^WEFT_ERR_HTTP_HEADERS_TIMEOUT/);
    }
    // Stalling behind a request in flight: that response goes out whole first, then the 408.
    for (const port of [outPort, inPort]) {
      const c = await rawClient(port);
      c.write('GET /slow/900 HTTP/1.1\r\nHost: x\r\n\r\n'); // under the outbound's 1 s response timeout
      await new Promise((r) => setTimeout(r, 100));
      c.write('GET /hello HTTP/1.1\r\nHost: x\r\nX-Sl');
      const { data } = await c.closed;
      const rs = parseResponses(data).responses;
      assert.deepEqual(rs.map((x) => x.status), [200, 408], `port ${port}`);
      assert.deepEqual(rs[0]?.body, HELLO_BODY);
    }
    // A head that trickles in but completes in time is served.
    const c = await rawClient(outPort);
    c.write('GET /hello HTTP/1.1\r\n');
    await new Promise((r) => setTimeout(r, 100));
    c.write('Host: x\r\n\r\n');
    const [r] = await c.responses(1);
    assert.equal(r?.status, 200);
    c.destroy();
    await assertStillServes();
  });

  test('an upstream reset mid-response aborts the client connection (no fake completion)', async () => {
    for (const q of ['', '?rst=1']) {
      const c = await rawClient(outPort);
      c.write(`GET /reset${q} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const { data } = await c.closed;
      const text = data.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 /);
      assert.match(text, /content-length: 2048/i);
      const body = data.subarray(data.indexOf('\r\n\r\n') + 4);
      assert.ok(body.length >= 1 && body.length < 2 * RESET_PARTIAL_BYTES, `got ${body.length} body bytes: the response must stay incomplete`);
    }
    // curl sees a transfer cut short (exit 18: partial file), not success.
    const r = await curl(['-o', '/dev/null', `http://127.0.0.1:${outPort}/reset`]);
    assert.equal(r.code, 18, r.stderr);
    await assertStillServes();
  });

  test('an upstream reset before the response gets 503 with flag UC', async () => {
    // Reset by the app behind the inbound proxy: the inbound hop answers.
    const viaInbound = await rawRequest(httpProxy, 'GET http://resetter/anything HTTP/1.1\r\nHost: resetter\r\n\r\n');
    assert.equal(viaInbound.status, 503);
    assert.match(weftError(viaInbound), /^WEFT_ERR_PROXY_UPSTREAM_RESET \(UC\) at inbound proxy=resetter\.default/);
    // Reset by the endpoint the outbound proxy dialled: the outbound hop answers.
    const direct = await rawRequest(httpProxy, 'GET http://direct-reset/anything HTTP/1.1\r\nHost: direct-reset\r\n\r\n');
    assert.equal(direct.status, 503);
    assert.match(weftError(direct), /^WEFT_ERR_PROXY_UPSTREAM_RESET \(UC\) at outbound proxy=client\.default service=direct-reset\.default/);
    await assertStillServes();
  });

  test('an upstream that is not listening gets 503 with flag UF', async () => {
    const r = await rawRequest(httpProxy, 'GET http://dead/x HTTP/1.1\r\nHost: dead\r\n\r\n');
    assert.equal(r.status, 503);
    assert.match(weftError(r), /^WEFT_ERR_PROXY_UPSTREAM_CONNECT \(UF\) at outbound .*service=dead\.default/);
    const viaCurl = await curl(['-i', '-x', `http://127.0.0.1:${httpProxy}`, 'http://dead/x']);
    assert.match(viaCurl.stdout.toString(), /^HTTP\/1\.1 503 /);
    await assertStillServes();
  });

  test('a service without endpoints gets 503 with flag UH', async () => {
    const r = await rawRequest(httpProxy, 'GET http://empty/x HTTP/1.1\r\nHost: empty\r\n\r\n');
    assert.equal(r.status, 503);
    assert.match(weftError(r), /^WEFT_ERR_PROXY_NO_HEALTHY_UPSTREAM \(UH\) at outbound .*service=empty\.default/);
    await assertStillServes();
  });

  test('an unknown service through the HTTP proxy listener gets 404 with flag NR', async () => {
    for (const target of ['http://nosuch/x', 'http://nosuch:8080/x', 'http://svc:1234/x']) {
      const host = target.slice(7, target.indexOf('/', 7));
      const r = await rawRequest(httpProxy, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert.equal(r.status, 404, target);
      assert.match(weftError(r), /^WEFT_ERR_PROXY_NO_ROUTE \(NR\)/);
    }
    // Origin-form with an unknown Host as well.
    const origin = await rawRequest(httpProxy, 'GET /x HTTP/1.1\r\nHost: nosuch\r\n\r\n');
    assert.equal(origin.status, 404);
    await assertStillServes();
  });

  test('limits.responseTimeoutMs and a slow app give 504 with flag UT', async () => {
    const r = await rawRequest(outPort, 'GET /slow/4000 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(r.status, 504);
    assert.match(weftError(r), /^WEFT_ERR_PROXY_UPSTREAM_TIMEOUT \(UT\) at outbound /);
    // A response under the timeout is unaffected.
    const fast = await rawRequest(outPort, 'GET /slow/50 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(fast.status, 200);
    await assertStillServes();
  });

  test('a snapshot file change that is invalid is rejected and the last good config keeps serving', async () => {
    const good = await adminGet(outbound, '/config');
    const goodVersion = (JSON.parse(good.text) as { version: string }).version;
    await writeFile(
      outbound.configFile,
      `apiVersion: weft.dev/v1alpha1\nkind: ProxySnapshot\nroutesVersion: r2\nendpointsVersion: e2\nservices:\n  - name: svc\n    ports:\n      - port: 99999\n`,
    );
    let view: { version: string; lastRejection?: { message: string } } = { version: '' };
    await eventually('a rejection reported on /config', async () => {
      view = JSON.parse((await adminGet(outbound, '/config')).text) as typeof view;
      return view.lastRejection !== undefined;
    });
    assert.equal(view.version, goodVersion, 'the running version is the last good one');
    assert.match(view.lastRejection?.message ?? '', /snapshot-\d+\.json:8:\d+: services\[0\]\.ports\[0\]\.port/);
    // The log line is written asynchronously: it may trail the admin view a little.
    await eventually('the rejection logged', () => /config rejected, last good config keeps serving/.test(outbound.proc.output()));
    const metrics = await adminGet(outbound, '/metrics');
    assert.equal(metrics.status, 200);
    await assertStillServes();
    const viaProxy = await rawRequest(httpProxy, 'GET http://svc:9080/hello HTTP/1.1\r\nHost: svc:9080\r\n\r\n');
    assert.equal(viaProxy.status, 200);
    // Not YAML at all: rejected the same way.
    await writeFile(outbound.configFile, 'apiVersion: [unclosed\n');
    await eventually('a parse error reported on /config', async () => {
      const v = JSON.parse((await adminGet(outbound, '/config')).text) as typeof view;
      return v.lastRejection !== undefined && v.lastRejection.message !== view.lastRejection?.message;
    });
    await assertStillServes();
    // A valid file again is applied and clears the rejection.
    await writeFile(outbound.configFile, JSON.stringify({ ...outboundSnapshot, routesVersion: 'r3' }));
    await eventually('the valid config applied', async () => {
      const v = JSON.parse((await adminGet(outbound, '/config')).text) as typeof view;
      return v.version === 'r3/e1' && v.lastRejection === undefined;
    });
    await assertStillServes();
  });
});

/**
 * An app that closes a reused keep-alive connection, without answering, when a request
 * for `/close` arrives on it (as a server whose idle timeout fires just then would). It
 * records every request it saw.
 */
const startClosingApp = async (): Promise<{ port: number; seen: string[]; close: () => Promise<void> }> => {
  const perSocket = new WeakMap<Socket, number>();
  const seen: string[] = [];
  const server = createHttpServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    req.resume();
    if (req.url === '/close' && n > 1) {
      req.socket.destroy();
      return;
    }
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
};

describe('a reused upstream connection closed before any response', () => {
  test('idempotent requests are retried on a fresh connection; others get 503 UC and run once', async (t) => {
    const app = await startClosingApp();
    t.after(app.close);
    // In process: a proxy process would add nothing to this one.
    const inbound = await Proxy.start(
      ProxyBootstrapSchema.parse({ service: 'svc', port: 0, appPort: app.port }),
      ProxySnapshotSchema.parse(snapshot({})),
      createLogger({ level: 'silent' }),
    );
    t.after(() => inbound.close());
    const port = inbound.ports.inbound as number;
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'PATCH']) {
      // One pooled app connection, used once; the next request reuses it and the app closes it.
      assert.equal((await rawRequest(port, 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
      app.seen.length = 0;
      const r = await rawRequest(port, `${method} /close HTTP/1.1\r\nHost: x\r\n\r\n`, { noBody: method === 'HEAD' });
      const idempotent = method !== 'POST' && method !== 'PATCH';
      if (idempotent) {
        assert.equal(r.status, 200, `${method} is retried`);
        assert.deepEqual(app.seen, [`${method} /close`, `${method} /close`]);
      } else {
        assert.equal(r.status, 503, `${method} is not retried`);
        assert.match(weftError(r), /^WEFT_ERR_PROXY_UPSTREAM_RESET \(UC\) at inbound /);
        assert.deepEqual(app.seen, [`${method} /close`], `${method} reached the app once`);
      }
    }
  });
});

describe('invalid snapshot file at start', () => {
  test('the CLI exits 1 naming file, line and field', async (t) => {
    const dir = await createTmpDir({ prefix: 'bad-snapshot', t });
    const file = dir.join('snapshot.yaml');
    await writeFile(
      file,
      [
        'apiVersion: weft.dev/v1alpha1',
        'kind: ProxySnapshot',
        'routesVersion: r1',
        'endpointsVersion: e1',
        'limits:',
        '  headersTimeoutMs: 5',
        '',
      ].join('\n'),
    );
    const proc = startWeft(['proxy', '--config', file, '--service', 'svc', '--port', '0'], { t });
    const exit = await proc.exited;
    assert.equal(exit.code, 1, proc.output());
    assert.match(proc.output(), new RegExp(`error WEFT_ERR_CONFIG_INVALID: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:\\d+: limits\\.headersTimeoutMs`));
    assert.doesNotMatch(proc.output(), /weft proxy ready/);
  });

  test('an unknown field and a missing file are named too', async (t) => {
    const dir = await createTmpDir({ prefix: 'bad-snapshot', t });
    const file = dir.join('snapshot.json');
    await writeFile(file, JSON.stringify({ ...snapshot({}), extra: true }, null, 2));
    const proc = startWeft(['proxy', '--config', file, '--service', 'svc'], { t });
    const missing = startWeft(['proxy', '--config', dir.join('nope.yaml'), '--service', 'svc'], { t });
    assert.equal((await proc.exited).code, 1);
    assert.match(proc.output(), /snapshot\.json:\d+:\d+: .*extra/);
    assert.equal((await missing.exited).code, 1);
    assert.match(missing.output(), /nope\.yaml/);
  });
});
