import type { Socket } from 'node:net';
import { joinSockets } from '../http1/tunnel.js';
import { dial, type ConnectTarget } from '../transport/connect.js';

/** ALPN id that tells the receiving proxy a TLS connection carries an opaque TCP stream. */
export const TCP_ALPN = 'weft-tcp';

/**
 * Forwards one opaque TCP connection: dials the target and joins the two byte streams.
 * Nothing is read from the client before the upstream answers, so server-first protocols
 * (the server greets first) work. When the dial fails the client connection is closed.
 */
export const forwardTcp = (client: Socket, target: ConnectTarget, onFail: (err: Error) => void, onClose?: () => void): void => {
  client.pause();
  client.on('error', () => client.destroy());
  dial(target, TCP_ALPN, (err, upstream) => {
    if (err !== undefined || upstream === undefined) {
      onFail(err ?? new Error('connect failed'));
      client.destroy();
      return;
    }
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    joinSockets(client, upstream, Buffer.alloc(0), Buffer.alloc(0), onClose);
  });
};
