import type { RequestMirror } from '@weft/api/data-plane';
import type { Backend } from '../routing/backend.js';

/**
 * RequestMirror: a share of a rule's requests is copied to another service, fire and
 * forget. A mirror must never delay or fail the request it copies, whatever its target
 * does, so everything about it is bounded and nothing on the request's path waits for it:
 *
 * - only requests without a body, or whose body fits {@link MIRROR_BODY_LIMIT}, are copied
 *   (the body is copied as it streams to the real backend; past the limit the copy is
 *   dropped), and the copy leaves once the body is complete;
 * - at most {@link MIRRORS_IN_FLIGHT_LIMIT} mirrors are in flight in a process, counting
 *   those waiting for their body; beyond, new ones are dropped;
 * - each mirror lives at most {@link MIRROR_TIMEOUT_MS}, body wait included; then its
 *   connection or stream is cancelled;
 * - its response is read and discarded; its failures are counted, never reported.
 *
 * Copies go through the normal endpoint pools, with the `Host` (`:authority`) of the
 * request as forwarded plus `-shadow` on the host name, as Envoy marks mirrored requests.
 */

/** Largest request body copied to a mirror, in bytes. */
export const MIRROR_BODY_LIMIT = 64 * 1024;
/** Mirrors in flight at once in one proxy process. */
export const MIRRORS_IN_FLIGHT_LIMIT = 64;
/** Longest a mirror may take, from the request's arrival to the end of the mirror's response. */
export const MIRROR_TIMEOUT_MS = 10_000;

/** How a mirror ended, as `weft_proxy_mirror_requests_total{outcome}` counts it. */
export const MIRROR_OUTCOMES = ['completed', 'failed', 'timed_out', 'dropped_in_flight_limit', 'dropped_body_too_large', 'dropped_no_endpoint'] as const;
export type MirrorOutcome = (typeof MIRROR_OUTCOMES)[number];

/** Mirror counts of this process, read by the metrics. */
export const mirrorCounts: Record<MirrorOutcome, number> & { inFlight: number } = {
  completed: 0,
  failed: 0,
  timed_out: 0,
  dropped_in_flight_limit: 0,
  dropped_body_too_large: 0,
  dropped_no_endpoint: 0,
  inFlight: 0,
};

/** A mirror of a rule, compiled: where copies go, and which requests are copied. */
export interface MirrorPolicy {
  readonly backend: Backend;
  /** Whether this request is one of the configured share. */
  readonly sample: () => boolean;
}

/** Compiles a RequestMirror filter whose target is `backend`. */
export const compileMirror = (m: RequestMirror, backend: Backend): MirrorPolicy => {
  const f = m.fraction;
  if (f === undefined || f.numerator >= f.denominator) return { backend, sample: () => true };
  if (f.numerator === 0) return { backend, sample: () => false };
  const { numerator, denominator } = f;
  return { backend, sample: () => Math.random() * denominator < numerator };
};

/** One mirror's place in the in-flight limit; released once, with how the mirror ended. */
export class MirrorSlot {
  readonly policy: MirrorPolicy;
  #released = false;
  readonly #timer: NodeJS.Timeout;
  #onTimeout: (() => void) | undefined;

  constructor(policy: MirrorPolicy) {
    this.policy = policy;
    mirrorCounts.inFlight++;
    this.#timer = setTimeout(() => {
      const cancel = this.#onTimeout;
      this.#onTimeout = undefined;
      this.release('timed_out');
      cancel?.();
    }, MIRROR_TIMEOUT_MS);
    this.#timer.unref();
  }

  get released(): boolean {
    return this.#released;
  }

  /** What to cancel when the mirror runs out of time (its upstream connection or stream). */
  onTimeout(fn: (() => void) | undefined): void {
    this.#onTimeout = fn;
  }

  release(outcome: MirrorOutcome): void {
    if (this.#released) return;
    this.#released = true;
    this.#onTimeout = undefined;
    clearTimeout(this.#timer);
    mirrorCounts.inFlight--;
    mirrorCounts[outcome]++;
  }
}

/**
 * The mirrors `policies` fire for one request: those sampled, each with a slot; a mirror
 * over the in-flight limit is dropped (and counted). Undefined when none fires.
 */
export const startMirrors = (policies: readonly MirrorPolicy[]): MirrorSlot[] | undefined => {
  let slots: MirrorSlot[] | undefined;
  for (const p of policies) {
    if (!p.sample()) continue;
    if (mirrorCounts.inFlight >= MIRRORS_IN_FLIGHT_LIMIT) {
      mirrorCounts.dropped_in_flight_limit++;
      continue;
    }
    (slots ??= []).push(new MirrorSlot(p));
  }
  return slots;
};

/** Releases every slot still held with `outcome`. */
export const dropMirrors = (slots: readonly MirrorSlot[], outcome: MirrorOutcome): void => {
  for (const s of slots) s.release(outcome);
};

/**
 * A copy of a request body for its mirrors, made as the body streams to the real backend:
 * at most {@link MIRROR_BODY_LIMIT} bytes, past which the mirrors are dropped. When the
 * body ends, `send` gets the whole copy.
 */
export class MirrorBody {
  readonly #slots: readonly MirrorSlot[];
  readonly #send: (body: Buffer) => void;
  #chunks: Buffer[] | undefined = [];
  #bytes = 0;

  constructor(slots: readonly MirrorSlot[], send: (body: Buffer) => void) {
    this.#slots = slots;
    this.#send = send;
  }

  write(chunk: Buffer): void {
    const chunks = this.#chunks;
    if (chunks === undefined) return;
    this.#bytes += chunk.length;
    if (this.#bytes > MIRROR_BODY_LIMIT) {
      this.#chunks = undefined;
      dropMirrors(this.#slots, 'dropped_body_too_large');
      return;
    }
    // The chunk may be a view of a buffer its owner reuses: keep a copy.
    chunks.push(Buffer.from(chunk));
  }

  end(): void {
    const chunks = this.#chunks;
    if (chunks === undefined) return;
    this.#chunks = undefined;
    if (this.#slots.every((s) => s.released)) return;
    this.#send(Buffer.concat(chunks));
  }
}
