/**
 * WebSocket and opaque TCP through two real `weft proxy` processes, in plaintext and with
 * static TLS between the proxies.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { createTmpDir, startTcpGreeter, startWsEcho, TCP_GREETING, type TcpGreeter, type TestPki, type WsEcho } from '@weft/testing';
import { makePki, PLAINTEXT, snapshot, startProxy, suiteContext, type TestContext, tlsTransport, type TransportInput } from './http1-mesh-fixture.js';

/** Opens a WebSocket and resolves once it is open (or rejects with the failure). */
const openWs = (url: string, t: TestContext): Promise<{ ws: WebSocket; headers: Record<string, string | string[] | undefined> }> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let headers: Record<string, string | string[] | undefined> = {};
    ws.once('upgrade', (res) => {
      headers = res.headers;
    });
    ws.once('open', () => resolve({ ws, headers }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode ?? 0} ${String(res.headers['x-weft-error'] ?? '')}`)));
    t.after(async () => {
      ws.terminate();
    });
  });

/** The next message, as a Buffer, with whether it was binary. */
const nextMessage = (ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no WebSocket message within 10 s')), 10_000);
    ws.once('message', (data, binary) => {
      clearTimeout(timer);
      resolve({ data: Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data), binary });
    });
  });

/** What one mode's topology holds: an outbound proxy in front of two inbound proxies. */
interface Topology {
  echo: WsEcho;
  greeter: TcpGreeter;
  /** Outbound explicit listener for the WebSocket service `ws`. */
  wsPort: number;
  /** Outbound explicit listener for the TCP service `greeter`. */
  tcpPort: number;
  httpProxyPort: number;
}

/**
 * client -> outbound (`--upstream ws:0 --upstream greeter:0`) -> inbound `ws` (HTTP app:
 * the WebSocket echo) or inbound `greeter` (`--app-protocol tcp`: the greeter).
 */
const startTopology = async (t: TestContext, pki: TestPki | undefined): Promise<Topology> => {
  const dir = await createTmpDir({ prefix: 'tcp-ws', t: t as { after: (fn: () => Promise<void>) => void } });
  const echo = await startWsEcho({ name: 'ws-app' });
  t.after(echo.close);
  const greeter = await startTcpGreeter();
  t.after(greeter.close);
  const transport = (name: string): TransportInput => (pki === undefined ? PLAINTEXT : tlsTransport(pki, name));
  const [inWs, inTcp] = await Promise.all([
    startProxy(t, dir, snapshot({ transport: transport('inbound') }), ['--service', 'ws', '--port', '0', '--app-port', String(echo.port)]),
    startProxy(t, dir, snapshot({ transport: transport('inbound-b'), limits: { detectTimeoutMs: 5000 } }), [
      '--service',
      'greeter',
      '--port',
      '0',
      '--app-port',
      String(greeter.port),
      '--app-protocol',
      'tcp',
    ]),
  ]);
  const out = await startProxy(
    t,
    dir,
    snapshot({
      services: [
        { name: 'ws', ports: [{ port: 9080, protocol: 'http' }] },
        // Declared tcp: no protocol detection, so the server may speak first.
        { name: 'greeter', ports: [{ port: 7000, protocol: 'tcp' }] },
      ],
      endpoints: {
        'ws.default': [{ address: '127.0.0.1', port: inWs.ports.inbound as number }],
        'greeter.default': [{ address: '127.0.0.1', port: inTcp.ports.inbound as number }],
      },
      transport: transport('outbound'),
      limits: { detectTimeoutMs: 5000 },
    }),
    ['--service', 'client', '--upstream', 'ws:0', '--upstream', 'greeter:0', '--http-proxy-port', '0'],
  );
  return {
    echo,
    greeter,
    wsPort: out.ports.upstreams['ws'] as number,
    tcpPort: out.ports.upstreams['greeter'] as number,
    httpProxyPort: out.ports.httpProxy as number,
  };
};

/** A suite-level context whose cleanups run in `after`. */
/** A line-oriented client of the greeter: collects what arrives, reads a line at a time. */
const greeterClient = async (port: number, t: TestContext): Promise<{ line: () => Promise<string>; send: (s: string) => void; closed: Promise<void> }> => {
  const sock = connect({ host: '127.0.0.1', port });
  t.after(async () => {
    sock.destroy();
  });
  let buf = '';
  const waiting: (() => void)[] = [];
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    for (const w of waiting.splice(0)) w();
  });
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.on('error', () => {});
  await new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('error', j);
  });
  const line = async (): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const i = buf.indexOf('\r\n');
      if (i >= 0) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 2);
        return l;
      }
      if (Date.now() > deadline || sock.destroyed) throw new Error(`no line; have ${JSON.stringify(buf)}`);
      await new Promise<void>((r) => {
        waiting.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return { line, send: (s) => sock.write(s), closed };
};

for (const mode of ['plaintext', 'tls'] as const) {
  describe(`WebSocket and server-first TCP through two proxies (${mode} between proxies)`, () => {
    const ctx = suiteContext();
    let top: Topology;
    before(async () => {
      top = await startTopology(ctx, mode === 'tls' ? await makePki(ctx) : undefined);
    });
    after(() => ctx.cleanup());

    test('WebSocket: upgrade, messages both ways (text, binary, large, burst), ping, close handshake', async (t) => {
      const { ws, headers } = await openWs(`ws://127.0.0.1:${top.wsPort}/chat?room=1`, t);
      assert.equal(headers['x-served-by'], 'ws-app', 'the upgrade response comes from the app');

      ws.send('hello over the mesh');
      const text = await nextMessage(ws);
      assert.equal(text.binary, false);
      assert.equal(text.data.toString(), 'hello over the mesh');

      const bin = randomBytes(4096);
      ws.send(bin);
      const binReply = await nextMessage(ws);
      assert.equal(binReply.binary, true);
      assert.deepEqual(binReply.data, bin);

      // A message larger than any socket buffer on the way, and many small ones in a burst.
      const big = randomBytes(4 * 1024 * 1024);
      ws.send(big);
      assert.deepEqual((await nextMessage(ws)).data, big);
      const received: string[] = [];
      const all = new Promise<void>((resolve) => {
        const on = (d: Buffer | ArrayBuffer | Buffer[]): void => {
          received.push(String(d));
          if (received.length === 200) {
            ws.off('message', on);
            resolve();
          }
        };
        ws.on('message', on);
      });
      for (let i = 0; i < 200; i++) ws.send(`m${i}`);
      await all;
      assert.deepEqual(received, Array.from({ length: 200 }, (_, i) => `m${i}`), 'messages arrive in order');

      const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
      ws.ping('are you there');
      assert.equal((await pong).toString(), 'are you there');

      // Close handshake: the server's close frame comes back through both proxies.
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      ws.close(1000, 'done');
      const c = await closed;
      assert.equal(c.code, 1000);
      assert.equal(c.reason, 'done');

      // The proxies still serve a second WebSocket (the tunnel left nothing behind).
      const second = await openWs(`ws://127.0.0.1:${top.wsPort}/again`, t);
      second.ws.send('again');
      assert.equal((await nextMessage(second.ws)).data.toString(), 'again');
      second.ws.close();
    });

    test('WebSocket: an absolute-form upgrade on the HTTP proxy listener is routed by authority', async (t) => {
      // A raw upgrade in absolute form, as an HTTP_PROXY-aware client sends it.
      const sock = connect({ host: '127.0.0.1', port: top.httpProxyPort });
      t.after(async () => {
        sock.destroy();
      });
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(
        'GET http://ws:9080/ws HTTP/1.1\r\nHost: ws:9080\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      const head = await new Promise<string>((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new Error(`no 101: ${buf}`)), 10_000);
        sock.on('data', (d: Buffer) => {
          buf += d.toString('latin1');
          if (buf.includes('\r\n\r\n')) {
            clearTimeout(timer);
            resolve(buf);
          }
        });
      });
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.match(head, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
      assert.match(head, /x-served-by: ws-app/i);
    });

    test('TCP: the greeting arrives before the client sends anything; lines echo; QUIT closes', async (t) => {
      const before = top.greeter.connections;
      for (let round = 0; round < 3; round++) {
        const c = await greeterClient(top.tcpPort, t);
        assert.equal(`${await c.line()}\r\n`, TCP_GREETING);
        c.send('hello\n');
        assert.equal(await c.line(), 'HELLO');
        const long = 'x'.repeat(60_000);
        c.send(`${long}\n`);
        assert.equal(await c.line(), long.toUpperCase());
        c.send('a\nb\nc\n');
        assert.deepEqual([await c.line(), await c.line(), await c.line()], ['A', 'B', 'C']);
        c.send('QUIT\n');
        assert.equal(await c.line(), 'BYE');
        await c.closed;
      }
      assert.equal(top.greeter.connections - before, 3);
    });

    test('TCP half-close: a client that shuts down its writing side still reads the answer; close propagates', async (t) => {
      for (let round = 0; round < 3; round++) {
        const sock = connect({ host: '127.0.0.1', port: top.tcpPort });
        t.after(async () => {
          sock.destroy();
        });
        let got = '';
        sock.setEncoding('utf8');
        sock.on('data', (d: string) => {
          got += d;
        });
        sock.on('error', () => {});
        // Request and FIN at once, like `printf 'hello\n' | nc host port`.
        sock.end('hello\nworld\n');
        // The greeter answers, sees the FIN, closes its side; that close comes back through
        // both proxies and ends the client connection (bounded wait, not a speed check).
        const closed = await Promise.race([
          new Promise<'closed'>((r) => sock.once('close', () => r('closed'))),
          new Promise<'open'>((r) => setTimeout(() => r('open'), 10_000)),
        ]);
        assert.equal(closed, 'closed', 'the close propagates back to the client');
        assert.equal(got, `${TCP_GREETING}HELLO\r\nWORLD\r\n`);
      }
    });
  });
}
