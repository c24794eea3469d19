import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import {
  ERROR_CODES,
  IDENTITY_ISSUE_PATH,
  IDENTITY_TRUST_BUNDLE_PATH,
  IssueRequestSchema,
  MAX_IDENTITY_MESSAGE_BYTES,
  workloadSpiffeId,
  type ErrorCode,
  type IssueResponse,
  type TrustBundleResponse,
} from '@weft/api';
import { WeftError, type Logger } from '@weft/core';
import type { StreamServerRoute } from '../stream/index.js';

/** What issuance needs of the CA and the token store. */
export interface IssuanceBackend {
  readonly trustDomain: () => string;
  readonly trustBundle: () => string[];
  /** Lifetime of workload certificates now (the Mesh's `mtls.certificateLifetime`). */
  readonly lifetimeMs: () => number;
  /** The service account of a Service: its `spec.serviceAccount`, or its name. */
  readonly serviceAccount: (namespace: string, service: string) => string;
  /** Checks a join token for this service; throws a `WeftError` (`WEFT_ERR_TOKEN_*`) to refuse it. */
  readonly verifyToken: (token: string, scope: { service: string; namespace: string }) => Promise<void>;
  readonly sign: (request: { csrPem: string; spiffeId: string; lifetimeMs: number }) => Promise<{ chainPem: string; notAfter: Date }>;
  readonly logger: Logger;
}

const reply = (stream: ServerHttp2Stream, status: number, body: unknown): void => {
  if (stream.destroyed || stream.closed) return;
  stream.respond({ ':status': status, 'content-type': 'application/json', 'cache-control': 'no-store' });
  stream.end(JSON.stringify(body));
};

const refuse = (stream: ServerHttp2Stream, code: ErrorCode, message: string): void =>
  reply(stream, ERROR_CODES[code].status, { code, message });

/** Reads a JSON body of at most MAX_IDENTITY_MESSAGE_BYTES. */
const readJson = (stream: ServerHttp2Stream): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_IDENTITY_MESSAGE_BYTES) {
        reject(new WeftError('WEFT_ERR_API_TOO_LARGE', `the request is larger than ${MAX_IDENTITY_MESSAGE_BYTES} bytes`, {}));
        stream.pause();
        return;
      }
      chunks.push(c);
    });
    stream.once('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new WeftError('WEFT_ERR_API_BAD_REQUEST', 'the request body is not JSON', {}));
      }
    });
    stream.once('error', reject);
  });

/**
 * The identity endpoints served beside the config stream: the trust bundle (to anyone: it
 * holds only public certificates) and issuance. A CSR is signed for the identity the
 * caller is allowed, whatever it asks: the Service's service account in its namespace.
 * The caller proves which service it is with its current certificate (renewal) or with a
 * join token for exactly that service; a CSR for any other identity is refused by the CA.
 */
export const issuanceRoutes = (backend: IssuanceBackend): Map<string, StreamServerRoute> => {
  const log = backend.logger.child({ component: 'identity' });
  const trustBundle = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    if (headers[':method'] !== 'GET') return refuse(stream, 'WEFT_ERR_API_BAD_REQUEST', `use GET ${IDENTITY_TRUST_BUNDLE_PATH}`);
    const body: TrustBundleResponse = { trustDomain: backend.trustDomain(), trustBundle: backend.trustBundle() };
    reply(stream, 200, body);
  };
  const issue = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, peer: string | undefined): void => {
    if (headers[':method'] !== 'POST') return refuse(stream, 'WEFT_ERR_API_BAD_REQUEST', `use POST ${IDENTITY_ISSUE_PATH}`);
    const remote = stream.session?.socket?.remoteAddress;
    void (async () => {
      const parsed = IssueRequestSchema.safeParse(await readJson(stream));
      if (!parsed.success) {
        throw new WeftError('WEFT_ERR_API_BAD_REQUEST', `the issuance request is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {});
      }
      const { service, namespace, csrPem } = parsed.data;
      const spiffeId = workloadSpiffeId(backend.trustDomain(), namespace, backend.serviceAccount(namespace, service));
      const auth = headers.authorization;
      if (peer !== undefined) {
        if (peer !== spiffeId) {
          throw new WeftError('WEFT_ERR_IDENTITY_REFUSED', `the client certificate names ${peer}; a certificate for ${namespace}/${service} must be asked for as ${spiffeId}`, {});
        }
      } else if (typeof auth === 'string' && auth.startsWith('Bearer ')) {
        await backend.verifyToken(auth.slice('Bearer '.length).trim(), { service, namespace });
      } else {
        throw new WeftError('WEFT_ERR_IDENTITY_REFUSED', 'issuance needs a join token (authorization: Bearer) or a valid workload certificate', {});
      }
      const signed = await backend.sign({ csrPem, spiffeId, lifetimeMs: backend.lifetimeMs() });
      log.info({ spiffeId, notAfter: signed.notAfter.toISOString(), remote, renewal: peer !== undefined }, 'workload certificate issued');
      const body: IssueResponse = { spiffeId, chainPem: signed.chainPem, trustBundle: backend.trustBundle(), notAfter: signed.notAfter.toISOString() };
      reply(stream, 200, body);
    })().catch((err: unknown) => {
      if (err instanceof WeftError) {
        log.warn({ code: err.code, remote, peer }, `certificate issuance refused: ${err.message}`);
        refuse(stream, err.code, err.message);
        return;
      }
      log.error({ err }, 'certificate issuance failed');
      refuse(stream, 'WEFT_ERR_API_INTERNAL', 'issuing the certificate failed; see the control plane log');
    });
  };
  return new Map<string, StreamServerRoute>([
    [IDENTITY_TRUST_BUNDLE_PATH, trustBundle],
    [IDENTITY_ISSUE_PATH, issue],
  ]);
};
