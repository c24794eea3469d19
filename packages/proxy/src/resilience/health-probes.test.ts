import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { test, type TestContext } from 'node:test';
import { httpProbe, tcpProbe } from './health-probes.js';

const listen = async (t: TestContext, server: Server | TcpServer): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
};

/** A port nothing listens on: bound once, then closed. */
const closedPort = async (): Promise<number> => {
  const s = createTcpServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
};

const signal = (): AbortSignal => new AbortController().signal;

test('HTTP probe: GET of the path, passing on 2xx and 3xx by default, failing otherwise', async (t) => {
  const seen: { method?: string; url?: string; host?: string; ua?: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method, url: req.url, host: req.headers.host, ua: req.headers['user-agent'] });
    const status = Number((req.url ?? '').split('/').pop());
    res.writeHead(Number.isInteger(status) && status >= 200 ? status : 200, { 'content-type': 'text/plain' });
    res.end('x'.repeat(100_000));
  });
  const port = await listen(t, server);
  const target = { address: '127.0.0.1', port };
  assert.equal(await httpProbe({ path: '/health/200', authority: 'reviews.default' })(target, signal()), true);
  assert.deepEqual(seen[0], { method: 'GET', url: '/health/200', host: 'reviews.default', ua: 'weft-health-check' });
  assert.equal(await httpProbe({ path: '/health/302' })(target, signal()), true);
  assert.equal(await httpProbe({ path: '/health/404' })(target, signal()), false);
  assert.equal(await httpProbe({ path: '/health/503' })(target, signal()), false);
  assert.equal(seen[1]?.host, `127.0.0.1:${port}`, 'the default Host is the endpoint');
  assert.equal(await httpProbe({ path: '/health/503', expectedStatuses: [503] })(target, signal()), true);
  assert.equal(await httpProbe({ path: '/health/200', expectedStatuses: [204] })(target, signal()), false);
});

test('HTTP probe: a refused connection, a reset mid-body and an abort all fail', async (t) => {
  assert.equal(await httpProbe()({ address: '127.0.0.1', port: await closedPort() }, signal()), false);

  const server = createServer((req, res) => {
    if (req.url === '/reset') {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setImmediate(() => req.socket.destroy());
      return;
    }
    // /hang: never answers.
  });
  const port = await listen(t, server);
  assert.equal(await httpProbe({ path: '/reset' })({ address: '127.0.0.1', port }, signal()), false);

  const abort = new AbortController();
  const pending = httpProbe({ path: '/hang' })({ address: '127.0.0.1', port }, abort.signal);
  setImmediate(() => abort.abort());
  assert.equal(await pending, false);

  const already = new AbortController();
  already.abort();
  assert.equal(await httpProbe()({ address: '127.0.0.1', port }, already.signal), false);
});

test('TCP probe: passes when a connection opens, fails when refused or aborted', async (t) => {
  const server = createTcpServer((socket) => socket.end());
  const port = await listen(t, server);
  const accepted = once(server, 'connection');
  assert.equal(await tcpProbe()({ address: '127.0.0.1', port }, signal()), true);
  await accepted;
  assert.equal(await tcpProbe()({ address: '127.0.0.1', port: await closedPort() }, signal()), false);
  const aborted = new AbortController();
  aborted.abort();
  assert.equal(await tcpProbe()({ address: '127.0.0.1', port }, aborted.signal), false);
});
