import { _default, array, discriminatedUnion, literal, maxLength, minLength, optional, regex, strictObject, string, zenum, type Infer } from './zod-mini.js';

/** One PEM certificate (a trust anchor, or one certificate of a chain). */
export const PemCertificateSchema = string().check(
  maxLength(64 * 1024),
  regex(/^-----BEGIN CERTIFICATE-----\r?\n[\s\S]+-----END CERTIFICATE-----\s*$/, 'must be one PEM certificate'),
);

/**
 * How proxies talk to each other.
 *
 * - `disabled`: plaintext between proxies (tests and local experiments only).
 * - `static`: certificate, key and CA from files (`weft proxy --config` without a control plane).
 * - `workload`: the proxy's own workload certificate, whose key it generated and the control
 *   plane's CA signed, checked against `trustBundle` (the roots the mesh trusts now: two
 *   during a root rotation).
 *
 * `mtlsMode` says what the inbound mesh port accepts when TLS is on: `STRICT` only mTLS,
 * `PERMISSIVE` plaintext too (migration), labelled in metrics as `connection_security_policy`.
 */
export const TransportSchema = strictObject({
  tls: _default(
    discriminatedUnion('mode', [
      strictObject({ mode: literal('disabled') }),
      strictObject({
        mode: literal('static'),
        certFile: string().check(minLength(1)),
        keyFile: string().check(minLength(1)),
        caFile: string().check(minLength(1)),
      }),
      strictObject({
        mode: literal('workload'),
        trustBundle: array(PemCertificateSchema).check(minLength(1), maxLength(16)),
        /**
         * `sha256:<hex>` public-key hash of the root that signs new certificates now. A proxy
         * whose certificate chains to another root renews at once (a root rotation step).
         */
        signerHash: optional(string().check(regex(/^sha256:[0-9a-f]{64}$/))),
      }),
    ]),
    { mode: 'disabled' },
  ),
  mtlsMode: _default(zenum(['STRICT', 'PERMISSIVE']), 'STRICT'),
});
export type Transport = Infer<typeof TransportSchema>;
