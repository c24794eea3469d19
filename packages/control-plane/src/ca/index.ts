// The mesh's certificate authority and join tokens. The Reflect metadata API must be in
// place before @peculiar/x509 loads; ./x509.js imports both in that order too.
import 'reflect-metadata';

export { CertificateAuthority, type CertificateAuthorityOptions, type ServerCertificate, type WorkloadCertificateRequest } from './authority.js';
export type { IssuedCertificate } from './issue.js';
export type { CaExpiry, RootState, RotationPhase, RotationState, RotationStep } from './types.js';
export { JoinTokens, JOIN_TOKEN_STORE_KIND, MAX_TOKEN_TTL_MS, MIN_TOKEN_TTL_MS, type CreatedJoinToken, type JoinClaim, type JoinTokenInfo, type JoinTokensOptions } from './join-tokens.js';
export { loadOrCreateTokenSecret } from './token-secret.js';
export { BUNDLE_FILE, CA_DIR, STATE_FILE, TOKEN_SECRET_FILE } from './ca-files.js';
export { CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE_ACCOUNT, parseWorkloadSpiffeId, spiffeIdOf } from './spiffe-id.js';
export { publicKeyHash } from './certificate-info.js';
