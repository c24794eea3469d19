import { z } from 'zod';

/** One PEM certificate (a trust anchor, or one certificate of a chain). */
export const PemCertificateSchema = z
  .string()
  .max(64 * 1024)
  .regex(/^-----BEGIN CERTIFICATE-----\r?\n[\s\S]+-----END CERTIFICATE-----\s*$/, 'must be one PEM certificate');

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
export const TransportSchema = z.strictObject({
  tls: z
    .discriminatedUnion('mode', [
      z.strictObject({ mode: z.literal('disabled') }),
      z.strictObject({
        mode: z.literal('static'),
        certFile: z.string().min(1),
        keyFile: z.string().min(1),
        caFile: z.string().min(1),
      }),
      z.strictObject({
        mode: z.literal('workload'),
        trustBundle: z.array(PemCertificateSchema).min(1).max(16),
        /**
         * `sha256:<hex>` public-key hash of the root that signs new certificates now. A proxy
         * whose certificate chains to another root renews at once (a root rotation step).
         */
        signerHash: z.string().regex(/^sha256:[0-9a-f]{64}$/).optional(),
      }),
    ])
    .default({ mode: 'disabled' }),
  mtlsMode: z.enum(['STRICT', 'PERMISSIVE']).default('STRICT'),
});
export type Transport = z.infer<typeof TransportSchema>;
