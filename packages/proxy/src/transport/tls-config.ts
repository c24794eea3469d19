import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { Transport } from '@weft/api/data-plane';
import { spiffeIdOf, WeftError } from '@weft/core';

/** The TLS material of one snapshot, loaded once when the snapshot is applied. */
export interface TlsMaterial {
  /** Context for accepting TLS on the mesh port. */
  readonly server: SecureContext;
  /** The same, as options for a `tls.Server` (which builds its context from them). */
  readonly serverOptions: SecureContextOptions;
  /** Context for dialling other proxies. */
  readonly client: SecureContext;
  /**
   * The check a dialled peer must pass after the handshake: its chain was accepted, and
   * when `identity` is set, its certificate's SPIFFE ID is exactly that one.
   */
  readonly verifyPeer: (identity: string | undefined) => (socket: TLSSocket) => Error | undefined;
}

const read = (file: string, field: string): Buffer => {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new WeftError('WEFT_ERR_CONFIG_READ', `transport.tls.${field}: cannot read ${file}: ${(err as Error).message}`, {
      field: `transport.tls.${field}`,
      file,
    });
  }
};

/** The proxy's own workload certificate: its key (generated here, never sent) and the chain the CA signed. */
export interface WorkloadCertificate {
  readonly keyPem: string;
  /** Leaf first, then any intermediates up to (not including) the root. */
  readonly chainPem: string;
}

/**
 * Loads the transport's TLS material, or returns undefined when TLS is disabled. Every
 * proxy-to-proxy connection is TLS 1.3 with both sides presenting certificates: the peer's
 * chain must lead to the configured CA (`static`) or to a root of the trust bundle (`workload`).
 */
export const loadTlsMaterial = (transport: Transport, workload?: WorkloadCertificate): TlsMaterial | undefined => {
  const tls = transport.tls;
  if (tls.mode === 'disabled') return undefined;
  let cert: Buffer | string;
  let key: Buffer | string;
  let ca: Buffer | string[];
  if (tls.mode === 'workload') {
    if (workload === undefined) {
      throw new WeftError('WEFT_ERR_CONFIG_INVALID', 'transport.tls: mode "workload" needs the workload certificate, which this proxy does not have yet', {
        field: 'transport.tls.mode',
      });
    }
    cert = workload.chainPem;
    key = workload.keyPem;
    ca = tls.trustBundle;
  } else {
    cert = read(tls.certFile, 'certFile');
    key = read(tls.keyFile, 'keyFile');
    ca = read(tls.caFile, 'caFile');
  }
  const options = { cert, key, ca, minVersion: 'TLSv1.3' as const, maxVersion: 'TLSv1.3' as const };
  let server: SecureContext;
  let client: SecureContext;
  try {
    // A server context that asks for client certificates needs a session id context, or
    // OpenSSL refuses every resumed session with an internal_error alert (tls.Server sets
    // one itself; a TLSSocket wrapped by hand does not).
    server = createSecureContext({ ...options, sessionIdContext: 'weft-mesh' });
    client = createSecureContext(options);
  } catch (err) {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', `transport.tls: ${(err as Error).message}`, { field: 'transport.tls' });
  }
  const chainOnly = (socket: TLSSocket): Error | undefined =>
    socket.authorized ? undefined : new Error(`peer certificate refused: ${String(socket.authorizationError)}`);
  return {
    server,
    serverOptions: { ...options, sessionIdContext: 'weft-mesh' },
    client,
    verifyPeer: (identity) =>
      identity === undefined
        ? chainOnly
        : (socket) => {
            const refused = chainOnly(socket);
            if (refused !== undefined) return refused;
            // A resumed session carries no certificate: the session was made (and verified)
            // with a peer of this identity, since tickets are kept per endpoint and identity.
            if (socket.isSessionReused()) return undefined;
            const presented = spiffeIdOf(socket.getPeerX509Certificate());
            return presented === identity
              ? undefined
              : new Error(`peer identity refused: expected ${identity}, the certificate names ${presented ?? 'no SPIFFE ID'}`);
          },
  };
};
