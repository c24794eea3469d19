import {
  Client,
  Metadata,
  credentials as grpcCredentials,
  type status as Status,
  type CallOptions,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import type { EventEmitter } from 'node:events';
import { ECHO_METHODS, type EchoReply, type EchoRequestInput } from './grpc-echo-proto.js';

/** Per-call options of {@link GrpcEchoClient}. */
export interface GrpcEchoCallOptions {
  /** Request metadata (headers) to send. */
  metadata?: Record<string, string>;
  /** Deadline, in milliseconds from now. */
  deadlineMs?: number;
}

/**
 * How a call ended. Calls never reject on a gRPC status: a test asserts on `code`
 * (`status.OK` is 0) as it would on any other field.
 */
export interface GrpcEchoResult {
  readonly code: Status;
  readonly details: string;
  /** Initial metadata (response headers); empty when the server sent none (Trailers-Only). */
  readonly headers: Metadata;
  /** Trailing metadata. */
  readonly trailers: Metadata;
  /** Replies received, in order; for Unary and ClientStream at most one. */
  readonly replies: readonly EchoReply[];
}

/** A typed client for the echo service; see {@link grpcEchoClient}. */
export interface GrpcEchoClient {
  unary(req: EchoRequestInput, opts?: GrpcEchoCallOptions): Promise<GrpcEchoResult>;
  serverStream(req: EchoRequestInput, opts?: GrpcEchoCallOptions): Promise<GrpcEchoResult>;
  /** Writes every request, half-closes, and waits for the single reply. */
  clientStream(reqs: readonly EchoRequestInput[], opts?: GrpcEchoCallOptions): Promise<GrpcEchoResult>;
  /** Writes every request, half-closes, and collects every reply. */
  bidiStream(reqs: readonly EchoRequestInput[], opts?: GrpcEchoCallOptions): Promise<GrpcEchoResult>;
  /** A raw bidirectional call, for tests that interleave writes and reads. */
  openBidi(opts?: GrpcEchoCallOptions): ClientDuplexStream<EchoRequestInput, EchoReply>;
  /** The underlying grpc-js client (e.g. for `waitForReady` or channel state). */
  readonly client: Client;
  /** Closes the channel. Bound, so `t.after(client.close)` works. */
  readonly close: () => void;
}

/**
 * A client of the echo service at `address` (`HOST:PORT`), over cleartext HTTP/2 unless
 * `credentials` says otherwise. Decoded replies are checked against {@link EchoReply}.
 */
export const grpcEchoClient = (address: string, opts: { credentials?: ChannelCredentials } = {}): GrpcEchoClient => {
  const client = new Client(address, opts.credentials ?? grpcCredentials.createInsecure());
  const { Unary, ServerStream, ClientStream, BidiStream } = ECHO_METHODS;

  const prepare = (o: GrpcEchoCallOptions = {}): { metadata: Metadata; options: CallOptions } => {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(o.metadata ?? {})) metadata.set(k, v);
    const options: CallOptions = o.deadlineMs === undefined ? {} : { deadline: Date.now() + o.deadlineMs };
    return { metadata, options };
  };

  const openBidi = (o?: GrpcEchoCallOptions): ClientDuplexStream<EchoRequestInput, EchoReply> => {
    const { metadata, options } = prepare(o);
    return client.makeBidiStreamRequest(BidiStream.path, BidiStream.serializeRequest, BidiStream.deserializeReply, metadata, options);
  };

  return {
    client,
    close: () => client.close(),
    openBidi,

    unary: (req, o) => {
      const { metadata, options } = prepare(o);
      let reply: EchoReply | undefined;
      const call = client.makeUnaryRequest(
        Unary.path,
        Unary.serializeRequest,
        Unary.deserializeReply,
        req,
        metadata,
        options,
        (_err: ServiceError | null, value?: EchoReply) => {
          reply = value;
        },
      );
      // The callback runs before 'status' is emitted, so the reply is known by then.
      return settle(call, () => (reply ? [reply] : []), false);
    },

    serverStream: (req, o) => {
      const { metadata, options } = prepare(o);
      const replies: EchoReply[] = [];
      const call = client.makeServerStreamRequest(
        ServerStream.path,
        ServerStream.serializeRequest,
        ServerStream.deserializeReply,
        req,
        metadata,
        options,
      );
      call.on('data', (r: EchoReply) => replies.push(r));
      return settle(call, () => replies, true);
    },

    clientStream: (reqs, o) => {
      const { metadata, options } = prepare(o);
      let reply: EchoReply | undefined;
      const call = client.makeClientStreamRequest(
        ClientStream.path,
        ClientStream.serializeRequest,
        ClientStream.deserializeReply,
        metadata,
        options,
        (_err: ServiceError | null, value?: EchoReply) => {
          reply = value;
        },
      );
      for (const r of reqs) call.write(r);
      call.end();
      return settle(call, () => (reply ? [reply] : []), false);
    },

    bidiStream: (reqs, o) => {
      const call = openBidi(o);
      const replies: EchoReply[] = [];
      call.on('data', (r: EchoReply) => replies.push(r));
      for (const r of reqs) call.write(r);
      call.end();
      return settle(call, () => replies, true);
    },
  };
};

/**
 * Resolves once the call has its final status and, for calls that read a stream, the
 * stream has ended (or errored), so that every reply has been delivered.
 */
const settle = (call: EventEmitter, replies: () => readonly EchoReply[], readsStream: boolean): Promise<GrpcEchoResult> =>
  new Promise((resolve) => {
    let headers = new Metadata();
    let status: StatusObject | undefined;
    let streamDone = !readsStream;
    const finish = (): void => {
      if (status === undefined || !streamDone) return;
      const s = status;
      // One more turn, so that 'data' events queued behind the status are delivered too.
      setImmediate(() => resolve({ code: s.code, details: s.details, headers, trailers: s.metadata, replies: replies() }));
    };
    call.on('metadata', (md: Metadata) => {
      headers = md;
    });
    call.on('status', (s: StatusObject) => {
      status = s;
      finish();
    });
    if (readsStream) {
      const done = (): void => {
        if (streamDone) return;
        streamDone = true;
        finish();
      };
      call.on('end', done);
      // A non-OK status is also emitted as 'error'; listening keeps it from being thrown.
      call.on('error', done);
    }
  });
