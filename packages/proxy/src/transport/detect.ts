import type { Socket } from 'node:net';

/** What the first bytes of a connection say it speaks. */
export type Detected = 'tls' | 'http2' | 'http1';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * Reads the first bytes of a connection to tell TLS, HTTP/2 prior knowledge and HTTP/1.1
 * apart, then puts them back so that the chosen handler reads the stream from its start.
 * A client that sends nothing within `timeoutMs` is disconnected (a server-first protocol
 * must be declared `tcp`, which skips detection).
 */
export const detectProtocol = (socket: Socket, timeoutMs: number, done: (kind: Detected) => void): void => {
  let seen: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => {
    socket.removeListener('data', onData);
    socket.destroy();
  }, timeoutMs);
  const finish = (kind: Detected): void => {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.pause();
    socket.unshift(seen);
    done(kind);
  };
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    if (seen[0] === 0x16) return finish('tls');
    const n = Math.min(seen.length, H2_PREFACE.length);
    if (seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) {
      if (n === H2_PREFACE.length) finish('http2');
      return; // a prefix of the preface: wait for the rest
    }
    finish('http1');
  };
  socket.on('data', onData);
  socket.once('close', () => clearTimeout(timer));
};
