import { connect, type IncomingHttpHeaders } from 'node:http2';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { ERROR_CODES, IdentityErrorSchema, MAX_IDENTITY_MESSAGE_BYTES, type ErrorCode } from '@weft/api/data-plane';
import { WeftError } from '@weft/core';

/** What parses an answer (a zod schema). */
interface AnswerSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { message: string } };
}

const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

/** A JSON exchange with the control plane's identity endpoints. */
export interface H2JsonRequest<T> {
  readonly address: string;
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly tls: ConnectionOptions;
  readonly schema: AnswerSchema<T>;
  readonly timeoutMs?: number;
  /** Called with the connected socket before anything is sent (to inspect the peer). */
  readonly onSecure?: (socket: TLSSocket) => void;
}

/**
 * One request on a fresh HTTP/2-over-TLS connection, its answer parsed by `schema`. A
 * non-2xx answer becomes a WeftError with the control plane's own code and message.
 */
export const h2Json = <T>(req: H2JsonRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    const session = connect(`https://${req.address}`, { ...req.tls });
    const timer = setTimeout(() => session.destroy(new Error(`no answer from ${req.address} within ${req.timeoutMs ?? 10_000} ms`)), req.timeoutMs ?? 10_000);
    let settled = false;
    const settle = (err: Error | undefined, value?: T): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.close();
      if (err !== undefined) reject(err);
      else resolve(value as T);
    };
    session.on('error', (err) => settle(err));
    session.once('close', () => settle(new Error(`the connection to ${req.address} closed without an answer`)));
    session.once('connect', (_s, socket) => req.onSecure?.(socket as TLSSocket));
    const stream = session.request({
      ':method': req.method,
      ':path': req.path,
      ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...req.headers,
    });
    stream.on('error', (err) => settle(err));
    let head: IncomingHttpHeaders = {};
    stream.on('response', (h) => (head = h));
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_IDENTITY_MESSAGE_BYTES) {
        stream.close();
        settle(new Error(`the answer from ${req.address} is larger than ${MAX_IDENTITY_MESSAGE_BYTES} bytes`));
        return;
      }
      chunks.push(c);
    });
    stream.on('end', () => {
      const status = Number(head[':status'] ?? 0);
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        settle(new Error(`the answer from ${req.address}${req.path} (status ${status}) is not JSON`));
        return;
      }
      if (status < 200 || status > 299) {
        const e = IdentityErrorSchema.safeParse(json);
        settle(
          e.success
            ? new WeftError(isErrorCode(e.data.code) ? e.data.code : 'WEFT_ERR_IDENTITY_REFUSED', `${req.address}: ${e.data.message}`, { status, code: e.data.code })
            : new Error(`${req.address}${req.path} answered ${status}`),
        );
        return;
      }
      const parsed = req.schema.safeParse(json);
      if (!parsed.success) settle(new Error(`the answer from ${req.address}${req.path} is not of the expected shape: ${parsed.error.message}`));
      else settle(undefined, parsed.data);
    });
    stream.end(req.body === undefined ? undefined : JSON.stringify(req.body));
  });
