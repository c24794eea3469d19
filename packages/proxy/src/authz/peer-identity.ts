import type { TLSSocket } from 'node:tls';
import { parseSpiffeId, spiffeIdOf } from '@weft/core';

/**
 * Who is calling, as the caller's mTLS certificate says: its SPIFFE ID and the namespace
 * and service account in it. A caller's service is its service account (which defaults to
 * the service name). A plaintext connection, or a certificate that names no workload
 * identity, has none: rules on principals, namespaces or services then never match it.
 */
export interface PeerIdentity {
  /** `spiffe://<trust domain>/ns/<namespace>/sa/<service account>` */
  readonly principal: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** The identity in a SPIFFE ID, or undefined when it is not a workload ID. */
export const peerIdentityFromPrincipal = (principal: string): PeerIdentity | undefined => {
  const id = parseSpiffeId(principal);
  return id === undefined ? undefined : { principal: id.id, namespace: id.namespace, serviceAccount: id.serviceAccount };
};

/**
 * The identity of the peer of an inbound mesh connection, read once per connection from the
 * one URI SAN of its certificate (the handshake already verified the chain).
 */
export const peerIdentityOf = (socket: TLSSocket): PeerIdentity | undefined => {
  const principal = spiffeIdOf(socket.getPeerX509Certificate());
  return principal === undefined ? undefined : peerIdentityFromPrincipal(principal);
};
