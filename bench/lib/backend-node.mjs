#!/usr/bin/env node
// Alternative backend (`npm run bench -- --backend node`): a plain Node http server that
// answers every request with the same 100-byte body over HTTP/1.1 keep-alive.
// Usage: node bench/lib/backend-node.mjs PORT
import http from 'node:http';
import { BODY } from './body.mjs';

const port = Number(process.argv[2]);
const body = Buffer.from(BODY, 'latin1');
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 300_000;
server.headersTimeout = 301_000;
server.maxRequestsPerSocket = 0;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
