export { compileAuthorizer, type Authorizer, type AuthzBasis, type AuthzDecision, type HeaderReader } from './evaluator.js';
export { peerIdentityFromPrincipal, peerIdentityOf, type PeerIdentity } from './peer-identity.js';
export { authzPath } from './request-path.js';
export { readH2Header, readRawHeader } from './header-readers.js';
export { InboundAuthz, type InboundAuthzOptions } from './inbound-guard.js';
