// The little server plumbing every Node app of the demo shares: listen on 127.0.0.1:$PORT,
// print one "listening" line (the demo waits for it), answer /healthz, stop on SIGTERM/SIGINT.
import http from 'node:http';

export const SERVICE = process.env.SERVICE_NAME ?? 'app';
export const VERSION = process.env.SERVICE_VERSION ?? 'v1';

/** Waits `min`..`max` ms: the demo's stand-in for real work, so that latencies look real. */
export const work = (min, max) => new Promise((r) => setTimeout(r, min + Math.random() * (max - min)));

export const sendJson = (res, status, body) => {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
};

export const sendHtml = (res, status, html) => {
  const data = Buffer.from(html);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': data.length });
  res.end(data);
};

/** Starts the app's server with `handle(req, res, url)`; errors become 500s, never crashes. */
export const serve = (handle) => {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    if (url.pathname === '/healthz') {
      sendJson(res, 200, { status: 'ok', service: SERVICE, version: VERSION });
      return;
    }
    Promise.resolve()
      .then(() => handle(req, res, url))
      .catch((err) => {
        process.stderr.write(`${SERVICE}: ${req.method} ${req.url} failed: ${err?.stack ?? err}\n`);
        if (!res.headersSent) sendJson(res, 500, { error: String(err?.message ?? err) });
        else res.destroy();
      });
  });
  server.keepAliveTimeout = 65_000;
  const port = Number(process.env.PORT ?? 0);
  const host = process.env.HOST ?? '127.0.0.1';
  server.listen(port, host, () => {
    const addr = server.address();
    process.stdout.write(`${SERVICE} ${VERSION} listening on http://${host}:${addr.port}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
};
