// The server side of the handshake benchmark: a TLS 1.3 server with mutual authentication,
// set up as a Weft proxy's mesh port is (packages/proxy/src/runtime/proxy.ts: `tls.Server`
// from `loadTlsMaterial`'s options, requestCert + rejectUnauthorized, the caller's SPIFFE
// ID read once per connection), from the built proxy package. Each connection gets one
// tiny HTTP/1.0 answer and is closed.
//
//   node tls-hs-server.mjs PORT CERT_FILE KEY_FILE CA_FILE     (prints "ready PORT")

import path from 'node:path';
import { Server as TlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { loadTlsMaterial } = await import(path.join(root, 'packages/proxy/dist/transport/tls-config.js'));
const { peerIdentityOf } = await import(path.join(root, 'packages/proxy/dist/authz/peer-identity.js'));

const [port, certFile, keyFile, caFile] = process.argv.slice(2);
const material = loadTlsMaterial({ tls: { mode: 'static', certFile, keyFile, caFile } });
const server = new TlsServer({ ...material.serverOptions, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2', 'http/1.1'] });
const ANSWER = 'HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok';
let identified = 0;
server.on('secureConnection', (socket) => {
  socket.on('error', () => socket.destroy());
  if (peerIdentityOf(socket) !== undefined) identified++;
  socket.once('data', () => socket.end(ANSWER));
});
server.on('tlsClientError', (err, socket) => {
  process.stderr.write(`handshake refused: ${err.message}\n`);
  socket.destroy();
});
process.on('SIGUSR2', () => process.stderr.write(`identified callers: ${identified}\n`));
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`ready ${server.address().port}\n`));
