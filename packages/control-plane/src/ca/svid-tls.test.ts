import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type PeerCertificate, type TLSSocket } from 'node:tls';
import { describe, test } from 'node:test';
import { createTmpDir } from '@weft/testing';
import { makeCsr } from '../../test/fixtures/ca-fixtures.js';
import { CertificateAuthority } from './index.js';

/**
 * Two workloads with certificates from the CA talk TLS 1.3 to each other, each requiring
 * and verifying the other's certificate against the trust bundle, as two proxies do.
 */

const TD = 'example.org';
const HOUR = 3600_000;

interface Svid {
  readonly key: string;
  readonly cert: string;
  readonly ca: string[];
  readonly id: string;
}

const svid = async (ca: CertificateAuthority, dir: string, name: string): Promise<Svid> => {
  const csr = await makeCsr(dir);
  const id = `spiffe://${TD}/ns/default/sa/${name}`;
  const issued = await ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId: id, lifetimeMs: HOUR });
  return { key: csr.keyPem, cert: issued.chainPem, ca: ca.trustBundle, id };
};

/** The identity a peer presents: its one URI SAN. */
const uriOf = (peer: PeerCertificate): string | undefined => /^URI:(.*)$/.exec(peer.subjectaltname ?? '')?.[1];

interface Outcome {
  readonly serverSaw?: string;
  readonly clientSaw?: string;
  readonly protocol?: string | null;
  readonly serverError?: string;
  readonly clientError?: string;
  /** What the client read: the server's greeting, sent only once it accepted the client. */
  readonly clientRead?: string;
}

/** One handshake; resolves with what each side saw (or the errors) once both are done. */
const handshake = async (server: Omit<Svid, 'id'>, client: Partial<Omit<Svid, 'id'>> & Pick<Svid, 'ca'>, expectServerId: string): Promise<Outcome> => {
  const out: { -readonly [K in keyof Outcome]: Outcome[K] } = {};
  let serverDone: () => void = () => undefined;
  const serverFinished = new Promise<void>((r) => (serverDone = r));
  const srv = createServer({ key: server.key, cert: server.cert, ca: server.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (socket: TLSSocket) => {
    out.serverSaw = uriOf(socket.getPeerCertificate());
    socket.end('hello');
    serverDone();
  });
  srv.on('tlsClientError', (err) => {
    out.serverError = err.message;
    serverDone();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: client.ca,
      ...(client.key === undefined ? {} : { key: client.key, cert: client.cert }),
      minVersion: 'TLSv1.3',
      // Mesh peers are named by SPIFFE ID, not host name: check the one URI SAN.
      checkServerIdentity: (_host, cert) => (uriOf(cert) === expectServerId ? undefined : new Error(`server is ${uriOf(cert) ?? 'nobody'}, expected ${expectServerId}`)),
    });
    socket.on('secureConnect', () => {
      out.clientSaw = uriOf(socket.getPeerCertificate());
      out.protocol = socket.getProtocol();
    });
    socket.on('data', (b: Buffer) => (out.clientRead = (out.clientRead ?? '') + b.toString()));
    socket.on('error', (err) => (out.clientError = err.message));
    socket.on('close', () => resolve());
  });
  await serverFinished;
  await new Promise<void>((r) => srv.close(() => r()));
  return out;
};

describe('TLS 1.3 between two SVIDs', () => {
  test('each side requires and verifies the other and sees its SPIFFE ID', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-tls', t });
    const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD });
    const web = await svid(ca, dir.path, 'web');
    const reviews = await svid(ca, dir.path, 'reviews');
    const out = await handshake(reviews, web, reviews.id);
    assert.equal(out.serverError, undefined);
    assert.equal(out.clientError, undefined);
    assert.equal(out.protocol, 'TLSv1.3');
    assert.equal(out.serverSaw, web.id);
    assert.equal(out.clientSaw, reviews.id);
    assert.equal(out.clientRead, 'hello');
  });

  test('a client without a certificate, or with one from another CA, is refused', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-tls', t });
    const ca = await CertificateAuthority.open({ dataDir: dir.join('a'), trustDomain: TD });
    const other = await CertificateAuthority.open({ dataDir: dir.join('b'), trustDomain: TD });
    const reviews = await svid(ca, dir.path, 'reviews');
    const none = await handshake(reviews, { ca: ca.trustBundle }, reviews.id);
    // TLS 1.3: the client finishes its side first; the server then refuses and says nothing.
    assert.equal(none.serverSaw, undefined);
    assert.notEqual(none.serverError, undefined);
    assert.equal(none.clientRead, undefined);
    const stranger = await svid(other, dir.path, 'web');
    const foreign = await handshake(reviews, { ...stranger, ca: ca.trustBundle }, reviews.id);
    assert.equal(foreign.serverSaw, undefined);
    assert.notEqual(foreign.serverError, undefined);
    assert.equal(foreign.clientRead, undefined);
  });

  test('a client refuses a server of another CA, and a server with another identity', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-tls', t });
    const ca = await CertificateAuthority.open({ dataDir: dir.join('a'), trustDomain: TD });
    const other = await CertificateAuthority.open({ dataDir: dir.join('b'), trustDomain: TD });
    const web = await svid(ca, dir.path, 'web');
    const impostor = await svid(other, dir.path, 'reviews');
    const foreign = await handshake({ ...impostor, ca: ca.trustBundle }, web, impostor.id);
    assert.equal(foreign.clientSaw, undefined);
    assert.match(foreign.clientError ?? '', /certificate/i);
    const ratings = await svid(ca, dir.path, 'ratings');
    const wrong = await handshake(ratings, web, `spiffe://${TD}/ns/default/sa/reviews`);
    assert.equal(wrong.clientSaw, undefined);
    assert.match(wrong.clientError ?? '', /server is spiffe:\/\/example\.org\/ns\/default\/sa\/ratings/);
  });
});
