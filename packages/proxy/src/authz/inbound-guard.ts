import type { InboundAuthorization } from '@weft/api/data-plane';
import type { Logger } from '@weft/core';
import { ProxyError, type HopRef } from '../errors/proxy-error.js';
import { DenialLog } from './denial-log.js';
import { compileAuthorizer, type Authorizer, type AuthzDecision, type HeaderReader } from './evaluator.js';
import type { PeerIdentity } from './peer-identity.js';

/** What {@link InboundAuthz} needs from its proxy. */
export interface InboundAuthzOptions {
  /** `name.namespace` of the proxy's own Service. */
  readonly proxy: string;
  readonly logger: Logger;
  /** Called for each denied request (metrics). */
  readonly onDenied?: (decision: AuthzDecision) => void;
  /** Clock of the denial log (tests). */
  readonly now?: () => number;
}

/** Longest request target quoted in an error; the rest is cut. */
const MAX_QUOTED_TARGET = 256;

/**
 * Enforcement on the inbound side, shared by the HTTP/1.1 and HTTP/2 handlers: the
 * authorization of the config in effect, compiled once per config (cached by the config's
 * `inbound.authorization` object), and what a denial does: an error the handler answers
 * with (403, or `PERMISSION_DENIED` for gRPC), a count, and a log line that cannot flood.
 */
export class InboundAuthz {
  readonly #authorizers = new WeakMap<InboundAuthorization, Authorizer>();
  readonly #hop: HopRef;
  readonly #log: DenialLog;
  readonly #onDenied: ((decision: AuthzDecision) => void) | undefined;

  constructor(options: InboundAuthzOptions) {
    this.#hop = { direction: 'inbound', proxy: options.proxy, service: options.proxy };
    this.#log = new DenialLog(options.logger, options.now);
    this.#onDenied = options.onDenied;
  }

  /** The compiled authorizer of `config`, made on first use. */
  authorizer(config: InboundAuthorization): Authorizer {
    let a = this.#authorizers.get(config);
    if (a === undefined) {
      a = compileAuthorizer(config);
      this.#authorizers.set(config, a);
    }
    return a;
  }

  /**
   * Judges one request; undefined when it may go on to the application, else the error that
   * ends it (the request never reaches the application).
   */
  check<H>(
    config: InboundAuthorization,
    method: string,
    target: string,
    peer: PeerIdentity | undefined,
    headers: H,
    readHeader: HeaderReader<H>,
  ): ProxyError | undefined {
    const authorizer = this.authorizer(config);
    if (authorizer.allowsAll) return undefined;
    const decision = authorizer.decide(method, target, peer, headers, readHeader);
    if (decision.allowed) return undefined;
    this.#onDenied?.(decision);
    this.#log.record(decision, peer, method, target);
    const quoted = target.length > MAX_QUOTED_TARGET ? `${target.slice(0, MAX_QUOTED_TARGET)}...` : target;
    const caller = peer === undefined ? 'a caller without mesh identity (plaintext)' : peer.principal;
    return new ProxyError('WEFT_ERR_AUTHZ_DENIED', `${decision.reason}; ${method} ${quoted} from ${caller}`, this.#hop);
  }
}
