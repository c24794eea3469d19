import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { constants } from 'node:http2';
import { ProxyError, upstreamSocketErrorCode } from '../errors/proxy-error.js';
import type { H2Exchange } from './exchange.js';
import { http1RequestHeaders, http2ResponseFromHttp1, responseHasNoBody } from './headers.js';

/** Where an HTTP/1.1 application listens, and the time limits of a request to it. */
export interface Http1AppTarget {
  readonly host: string;
  readonly port: number;
  readonly agent: Agent;
  readonly connectTimeoutMs: number;
  /** Time allowed until the response head arrives; 0 for none. */
  readonly responseTimeoutMs: number;
}

/**
 * Forwards a request that arrived over HTTP/2 to an HTTP/1.1 application (inbound, app
 * protocol `http`), on keep-alive connections of `target.agent`. Bodies stream both ways
 * with backpressure; trailers are not carried on this translation.
 */
export const forwardToHttp1 = (ex: H2Exchange, target: Http1AppTarget): void => {
  const down = ex.down;
  let connected = false;
  let timer: NodeJS.Timeout | undefined;
  const req = httpRequest({
    host: target.host,
    port: target.port,
    method: ex.method,
    path: ex.path,
    headers: http1RequestHeaders(ex.headers, ex.authority),
    agent: target.agent,
    setHost: false,
  });
  const stopTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const failWith = (err: ProxyError): void => {
    stopTimer();
    ex.onCancel(undefined);
    ex.fail(err);
    req.destroy();
  };

  req.once('socket', (socket: Socket) => {
    if (!socket.connecting) {
      connected = true;
      return;
    }
    const limit = setTimeout(() => {
      socket.destroy(Object.assign(new Error(`connect timeout after ${target.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, target.connectTimeoutMs);
    socket.once('connect', () => {
      connected = true;
      clearTimeout(limit);
    });
    socket.once('close', () => clearTimeout(limit));
  });

  req.on('error', (err: Error) => {
    if (ex.closed) return;
    if (ex.responded) {
      ex.reset(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    failWith(new ProxyError(upstreamSocketErrorCode(err, connected), err.message, ex.hop, { cause: err }));
  });

  req.once('response', (res: IncomingMessage) => {
    stopTimer();
    const status = res.statusCode ?? 502;
    const noBody = responseHasNoBody(ex.method, status);
    if (!ex.respond(http2ResponseFromHttp1(status, res.headers), noBody, false)) {
      req.destroy();
      return;
    }
    res.once('close', () => {
      // The application broke off its response: the client learns it by a reset.
      if (!res.complete && !ex.closed) ex.reset(constants.NGHTTP2_INTERNAL_ERROR);
    });
    if (noBody) res.resume();
    else res.pipe(down);
  });

  ex.onCancel(() => req.destroy());

  if (target.responseTimeoutMs > 0) {
    timer = setTimeout(() => {
      timer = undefined;
      if (ex.responded || ex.closed) return;
      failWith(new ProxyError('WEFT_ERR_PROXY_UPSTREAM_TIMEOUT', `no response within ${target.responseTimeoutMs} ms`, ex.hop));
    }, target.responseTimeoutMs);
  }

  if (ex.hasBody) down.pipe(req);
  else req.end();
};
