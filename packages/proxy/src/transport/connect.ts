import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';

/**
 * How to open a connection to one upstream address: plaintext, or TLS with the proxy's
 * client context. One ConnectTarget is made per endpoint per config and shared by every
 * pool and stream that dials it.
 */
export interface ConnectTarget {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  readonly tls?: {
    readonly context: SecureContext;
    /** Verifies the peer once the handshake is done; returns an error to refuse it. */
    readonly verifyPeer: (socket: TLSSocket) => Error | undefined;
  };
  readonly connectTimeoutMs: number;
}

/** TLS sessions by target key, so that reconnects resume instead of doing a full handshake. */
const sessions = new Map<string, Buffer>();

/**
 * Dials `target` with ALPN `alpn` when it is TLS. Calls back once: with the socket when it
 * is connected (and verified), or with the error. The timeout covers connect and handshake.
 */
export const dial = (
  target: ConnectTarget,
  alpn: string,
  done: (err: Error | undefined, socket: Socket | undefined) => void,
): Socket => {
  let settled = false;
  const finish = (err: Error | undefined, socket: Socket | undefined): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    done(err, socket);
  };
  let socket: Socket;
  const tls = target.tls;
  if (tls === undefined) {
    socket = netConnect({ host: target.host, port: target.port });
    socket.once('connect', () => finish(undefined, socket));
  } else {
    const sessionKey = `${target.key}|${alpn}`;
    const session = sessions.get(sessionKey);
    const t = tlsConnect({
      host: target.host,
      port: target.port,
      secureContext: tls.context,
      ALPNProtocols: [alpn],
      // Identity is checked by verifyPeer (the chain itself by the secure context's CA).
      checkServerIdentity: () => undefined,
      ...(session === undefined ? {} : { session }),
    });
    t.on('session', (s: Buffer) => {
      if (sessions.size > 10_000) sessions.clear(); // bounded: one entry per live target
      sessions.set(sessionKey, s);
    });
    t.once('secureConnect', () => {
      const refused = tls.verifyPeer(t);
      if (refused !== undefined) {
        t.destroy(refused);
        finish(refused, undefined);
        return;
      }
      finish(undefined, t);
    });
    socket = t;
  }
  socket.setNoDelay(true);
  socket.once('error', (err) => finish(err, undefined));
  socket.once('close', () => finish(new Error('connection closed during connect'), undefined));
  const timer = setTimeout(() => {
    const err = Object.assign(new Error(`connect timeout after ${target.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' });
    socket.destroy(err);
    finish(err, undefined);
  }, target.connectTimeoutMs);
  return socket;
};
