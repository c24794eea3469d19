import { constants, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import type { MirrorSlot } from './mirror.js';

/**
 * Mirrors of HTTP/2 and gRPC requests, each a stream on the session of the mirror's
 * endpoint (the pool the proxy forwards on): the request as forwarded, its whole body, and
 * a response read and dropped.
 */

/** Calls back with a session to `endpoint`, or the error that kept one from opening. */
export type MirrorSessions = (endpoint: EndpointRef, done: (err: Error | undefined, session: ClientHttp2Session | undefined) => void) => void;

const noop = (): void => {};

const sendOne = (session: ClientHttp2Session, slot: MirrorSlot, headers: OutgoingHttpHeaders, body: Buffer | undefined): void => {
  let stream: ClientHttp2Stream;
  try {
    stream = session.request({ ...headers }, { endStream: body === undefined });
  } catch {
    slot.release('failed');
    return;
  }
  stream.on('error', noop);
  slot.onTimeout(() => {
    if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
  });
  let answered = false;
  stream.once('response', () => {
    answered = true;
  });
  stream.resume();
  stream.once('close', () => slot.release(answered && stream.rstCode === constants.NGHTTP2_NO_ERROR ? 'completed' : 'failed'));
  if (body !== undefined) stream.end(body);
};

/** Sends the mirrors still held in `slots`, each to an endpoint of its backend. Never throws. */
export const sendHttp2Mirrors = (sessions: MirrorSessions, slots: readonly MirrorSlot[], headers: OutgoingHttpHeaders, body: Buffer | undefined): void => {
  for (const slot of slots) {
    if (slot.released) continue;
    const endpoint = slot.policy.backend.balancer.pick();
    if (endpoint === undefined) {
      slot.release('dropped_no_endpoint');
      continue;
    }
    try {
      sessions(endpoint, (err, session) => {
        if (slot.released) return;
        if (err !== undefined || session === undefined) slot.release('failed');
        else sendOne(session, slot, headers, body);
      });
    } catch {
      slot.release('failed');
    }
  }
};
