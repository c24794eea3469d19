import type { CertificateInfo } from './certificate-info.js';
import type { Signer } from './issue.js';

/**
 * Where a root rotation stands:
 * - `idle`: one root, trusted and signing;
 * - `introduced`: a new root is trusted too, the old one still signs;
 * - `activated`: the new root signs, the old one is still trusted (for certificates it signed).
 */
export type RotationPhase = 'idle' | 'introduced' | 'activated';

/** A rotation step, as `weft ca rotate --step` names it. */
export type RotationStep = 'introduce' | 'activate' | 'retire';

/** One root in {@link RotationState}. */
export interface RootState {
  readonly caHash: string;
  readonly subject: string;
  readonly notAfter: Date;
  /** New certificates chain up to this root (for a plug-in CA: the organisation root above the intermediate). */
  readonly signing: boolean;
  /** In the trust bundle. */
  readonly trusted: boolean;
}

/** The rotation phase and the roots it involves. */
export interface RotationState {
  readonly phase: RotationPhase;
  readonly roots: readonly RootState[];
}

/** One CA certificate's expiry, for `weft ca show` and `weft check` (which warns within 30 days). */
export interface CaExpiry {
  readonly role: 'root' | 'intermediate';
  readonly subject: string;
  readonly caHash: string;
  readonly notAfter: Date;
  /** Whole days left, rounded down; negative once expired. */
  readonly daysLeft: number;
  /** This certificate signs new certificates (or, for a root, new certificates chain to it). */
  readonly signing: boolean;
}

/** What the authority is built on: a self-managed root set, or a plug-in CA. */
export interface CaSource {
  readonly mode: 'self-managed' | 'plug-in';
  /** The signer of new certificates, now. */
  signer(): Signer;
  /** Trust anchors, in bundle order. */
  anchors(): readonly CertificateInfo[];
  /** The anchor new certificates chain to. */
  signingAnchor(): CertificateInfo;
  /** Certificates between a leaf and its anchor (plug-in CA only), leaf side first. */
  intermediates(): readonly CertificateInfo[];
  phase(): RotationPhase;
  /** Performs one rotation step (self-managed only); resolves once it is durable, to whether it changed anything. */
  rotate(step: RotationStep): Promise<boolean>;
}
