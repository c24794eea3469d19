import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@weft/core';
import type { MetricsRegistry } from '../telemetry/registry.js';

/**
 * The proxy's admin port: health for supervisors (`/live`, `/ready`), the running config
 * for `weft proxy-config`, Prometheus metrics, and the runtime log level. It binds loopback
 * by default: nothing here is meant for the mesh.
 */

/** The last configuration the proxy refused, kept for `/config` so that an operator sees why. */
export interface ConfigRejection {
  /** ISO 8601 time of the rejection. */
  readonly at: string;
  readonly message: string;
  readonly version?: string;
}

/** The configuration in effect, as `/config` shows it. */
export interface AdminConfigView {
  readonly version: string;
  readonly routesVersion: string;
  readonly endpointsVersion: string;
  readonly snapshot: unknown;
  readonly lastRejection?: ConfigRejection;
}

/** What the admin server asks of the proxy it reports on. Called per admin request, so keep them cheap. */
export interface AdminState {
  /** False once the process is wedged and should be restarted. */
  isLive(): boolean;
  /** True when the proxy can take traffic: it has a config and its listeners are up. */
  isReady(): boolean;
  /** The configuration in effect, or undefined before the first one. */
  config(): AdminConfigView | undefined;
  /** Why the proxy is not ready, for `/ready`'s 503 body; optional. */
  notReadyReason?(): string | undefined;
}

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /** Interface to bind; loopback unless the operator says otherwise. */
  readonly host?: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  readonly registry: MetricsRegistry;
  /**
   * Renders `/metrics` instead of `registry` (a multi-worker sidecar merges its workers').
   * A rejected promise answers 503.
   */
  readonly renderMetrics?: () => Promise<string>;
  /** The root logger; `PUT /log-level` changes its level (children follow unless set on their own). */
  readonly logger: Logger;
  readonly state: AdminState;
}

/** A running admin server. */
export interface AdminServer {
  /** The port it listens on (the one picked, when asked for 0). */
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const send = (res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void => {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
};

const sendText = (res: ServerResponse, status: number, body: string): void =>
  send(res, status, 'text/plain; charset=utf-8', `${body}\n`);

const sendJson = (res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void =>
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body, null, 2)}\n`, headers);

const sendError = (res: ServerResponse, status: number, error: string, message: string, headers?: Record<string, string>): void =>
  sendJson(res, status, { error, message }, headers);

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/** Routes by path, then method. HEAD is served wherever GET is. */
type Routes = Readonly<Record<string, Readonly<Partial<Record<'GET' | 'PUT', Handler>>>>>;

const buildRoutes = ({ registry, logger, state, renderMetrics }: AdminServerOptions): Routes => ({
  '/live': {
    GET: (_req, res) => (state.isLive() ? sendText(res, 200, 'ok') : sendText(res, 503, 'not live')),
  },
  '/ready': {
    GET: (_req, res) => {
      if (state.isReady()) return sendText(res, 200, 'ready');
      const reason =
        state.notReadyReason?.() ??
        (!state.isLive() ? 'not live' : state.config() === undefined ? 'no configuration yet' : 'not ready');
      sendText(res, 503, `not ready: ${reason}`);
    },
  },
  '/config': {
    GET: (_req, res) => {
      const config = state.config();
      if (config === undefined) return sendError(res, 503, 'no_config', 'no configuration has been applied yet');
      sendJson(res, 200, config);
    },
  },
  '/metrics': {
    GET: (_req, res) => {
      if (renderMetrics === undefined) return send(res, 200, PROMETHEUS_CONTENT_TYPE, registry.render());
      renderMetrics().then(
        (text) => send(res, 200, PROMETHEUS_CONTENT_TYPE, text),
        (err: unknown) => sendText(res, 503, `metrics unavailable: ${err instanceof Error ? err.message : String(err)}`),
      );
    },
  },
  '/log-level': {
    GET: (_req, res) => sendJson(res, 200, { level: logger.level }),
    PUT: (_req, res, url) => {
      const level = url.searchParams.get('level');
      const known = Object.keys(logger.levels.values);
      if (level === null || !(known.includes(level) || level === 'silent')) {
        return sendError(res, 400, 'bad_level', `level must be one of ${[...known, 'silent'].join(', ')}`);
      }
      const previous = logger.level;
      logger.level = level;
      // Logged at warn so that the change shows whatever the new level is.
      logger.warn({ previous, level }, 'log level changed through the admin port');
      sendJson(res, 200, { level, previous });
    },
  },
});

/**
 * Starts the admin HTTP server: `GET /live`, `GET /ready`, `GET /config`, `GET /metrics`,
 * `GET|PUT /log-level?level=...`. Unknown paths get 404 and known paths with another method
 * 405 (JSON bodies with `error` and `message`). Resolves once listening.
 */
export const startAdminServer = async (options: AdminServerOptions): Promise<AdminServer> => {
  const routes = buildRoutes(options);
  const log = options.logger.child({ component: 'admin' });
  const server = createServer((req, res) => {
    // Request bodies are never needed; drain them so that keep-alive connections stay usable.
    req.resume();
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const route = routes[url.pathname];
    if (route === undefined) return sendError(res, 404, 'not_found', `no admin endpoint at ${url.pathname}`);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const handler = method === 'GET' || method === 'PUT' ? route[method] : undefined;
    const allow = Object.keys(route).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
    if (handler === undefined) {
      return sendError(res, 405, 'method_not_allowed', `${req.method ?? '?'} is not allowed on ${url.pathname}`, { allow });
    }
    try {
      handler(req, res, url);
    } catch (err) {
      log.error({ err, path: url.pathname }, 'admin request failed');
      if (!res.headersSent) sendError(res, 500, 'internal', err instanceof Error ? err.message : String(err));
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  log.info({ host: options.host ?? '127.0.0.1', port }, 'admin server listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
};
