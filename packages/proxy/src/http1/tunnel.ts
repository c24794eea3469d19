import type { Socket } from 'node:net';

/**
 * Joins two sockets into one byte stream each way, after a protocol switch (WebSocket) or
 * for opaque TCP. `pipe` gives backpressure both ways; either side closing or failing ends
 * both, so that no half of a dead tunnel lingers.
 */
export const joinSockets = (a: Socket, b: Socket, aRest: Buffer, bRest: Buffer, onClose?: () => void): void => {
  // Half-close passes through: a client that sends its request and shuts down its writing
  // side (`nc`, many TCP protocols) still reads the answer. Without this a socket ends its
  // writing side as soon as the peer's FIN arrives, and the answer in flight is lost. The
  // tunnel closes once both directions have ended (or either side fails).
  a.allowHalfOpen = true;
  b.allowHalfOpen = true;
  let done = false;
  const close = (): void => {
    if (done) return;
    done = true;
    a.destroy();
    b.destroy();
    onClose?.();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
  if (aRest.length > 0) b.write(aRest);
  if (bRest.length > 0) a.write(bRest);
  a.pipe(b);
  b.pipe(a);
  a.resume();
  b.resume();
};
