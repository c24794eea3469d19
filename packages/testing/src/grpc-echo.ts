import {
  Metadata,
  Server,
  ServerCredentials,
  type MethodDefinition,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type StatusObject,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ECHO_METHODS, type EchoMethodName, type EchoReply, type EchoRequest } from './grpc-echo-proto.js';

/** One method of the echo service as a grpc-js server registers it, for servers of the echo service (this one and scripted ones in tests). */
export const echoMethodDefinition = (m: EchoMethodName): MethodDefinition<EchoRequest, EchoReply> => {
  const method = ECHO_METHODS[m];
  return {
    path: method.path,
    requestStream: method.requestStream,
    responseStream: method.responseStream,
    requestSerialize: method.serializeRequest,
    requestDeserialize: method.deserializeRequest,
    responseSerialize: method.serializeReply,
    responseDeserialize: method.deserializeReply,
  };
};

/** Options of {@link startGrpcEcho}. */
export interface GrpcEchoOptions {
  /** Sent as `x-served-by` metadata and in every reply's `servedBy`. Default `grpc-echo`. */
  name?: string;
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
}

/** A running gRPC echo server; see {@link startGrpcEcho}. */
export interface GrpcEcho {
  readonly port: number;
  /** `HOST:PORT`, as gRPC clients take it. */
  readonly address: string;
  readonly name: string;
  /** Calls received so far, of any kind. */
  readonly calls: number;
  /** Stops the server, cancelling calls in flight. Bound, so `t.after(grpc.close)` works. */
  readonly close: () => Promise<void>;
}

/** Trailer set on calls that failed because the request asked for it. */
export const GRPC_ECHO_FAILURE_TRAILER = 'x-weft-test-failure';

/**
 * Starts the `weft.testing.echo.v1.Echo` service (proto/echo.proto) over cleartext HTTP/2
 * on a free loopback port:
 * - Unary: one reply with the request's message and the request metadata it received.
 * - ServerStream: `count` replies (index 0..count-1), written with backpressure.
 * - ClientStream: after the client ends, one reply: messages concatenated, numbers in
 *   `sum`, `index` = how many requests arrived.
 * - BidiStream: a reply to each request as it arrives, in order.
 *
 * Every call sends `x-served-by: <name>` as initial metadata and trailer, and honours
 * `delayMs` (before each reply). A request with `failWithCode` set ends the call with that
 * status and `failMessage`, and trailers `x-served-by` and `x-weft-test-failure: requested`;
 * a Unary call fails before sending any header, so that the answer is a Trailers-Only
 * response, the case proxies most often get wrong. Streams fail after the replies due so far.
 */
export const startGrpcEcho = async (opts: GrpcEchoOptions = {}): Promise<GrpcEcho> => {
  const name = opts.name ?? 'grpc-echo';
  const host = opts.host ?? '127.0.0.1';
  let calls = 0;

  const served = (): Metadata => {
    const md = new Metadata();
    md.set('x-served-by', name);
    return md;
  };
  const failure = (req: EchoRequest): Partial<StatusObject> => {
    const metadata = served();
    metadata.set(GRPC_ECHO_FAILURE_TRAILER, 'requested');
    return { code: req.failWithCode, details: req.failMessage || `failure requested with code ${req.failWithCode}`, metadata };
  };
  const reply = (r: Partial<EchoReply>): EchoReply => ({ message: '', index: 0, sum: 0, metadata: {}, ...r, servedBy: name });
  const pause = async (ms: number): Promise<void> => {
    if (ms > 0) await sleep(ms);
  };

  const unary = (call: ServerUnaryCall<EchoRequest, EchoReply>, done: sendUnaryData<EchoReply>): void => {
    calls++;
    const req = call.request;
    void (async () => {
      await pause(req.delayMs);
      if (req.failWithCode !== 0) return done(failure(req));
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) if (typeof v === 'string') metadata[k] = v;
      call.sendMetadata(served());
      done(null, reply({ message: req.message, metadata }), served());
    })();
  };

  const serverStream = (call: ServerWritableStream<EchoRequest, EchoReply>): void => {
    calls++;
    const req = call.request;
    call.sendMetadata(served());
    void (async () => {
      for (let index = 0; index < req.count; index++) {
        await pause(req.delayMs);
        if (call.cancelled) return;
        if (!call.write(reply({ message: req.message, index }))) {
          await new Promise((resolve) => call.once('drain', resolve));
        }
      }
      if (req.failWithCode !== 0) call.emit('error', failure(req));
      else call.end(served());
    })();
  };

  const clientStream = (call: ServerReadableStream<EchoRequest, EchoReply>, done: sendUnaryData<EchoReply>): void => {
    calls++;
    call.sendMetadata(served());
    let message = '';
    let sum = 0;
    let index = 0;
    let failed: EchoRequest | undefined;
    call.on('data', (req: EchoRequest) => {
      message += req.message;
      sum += req.number;
      index++;
      if (req.failWithCode !== 0) failed ??= req;
    });
    call.on('error', () => {
      // The client cancelled: grpc-js has already ended the call.
    });
    call.on('end', () => {
      if (failed) done(failure(failed));
      else done(null, reply({ message, sum, index }), served());
    });
  };

  const bidiStream = (call: ServerDuplexStream<EchoRequest, EchoReply>): void => {
    calls++;
    call.sendMetadata(served());
    let index = 0;
    let ended = false;
    // Requests are answered one after another, so that delays keep replies in order.
    let queue = Promise.resolve();
    call.on('data', (req: EchoRequest) => {
      queue = queue.then(async () => {
        if (ended || call.cancelled) return;
        await pause(req.delayMs);
        if (req.failWithCode !== 0) {
          ended = true;
          call.emit('error', failure(req));
          return;
        }
        call.write(reply({ message: req.message, index: index++ }));
      });
    });
    call.on('error', () => {
      // The client cancelled: grpc-js has already ended the call.
    });
    call.on('end', () => {
      void queue.then(() => {
        if (!ended && !call.cancelled) call.end(served());
      });
    });
  };

  const service: ServiceDefinition = {
    Unary: echoMethodDefinition('Unary'),
    ServerStream: echoMethodDefinition('ServerStream'),
    ClientStream: echoMethodDefinition('ClientStream'),
    BidiStream: echoMethodDefinition('BidiStream'),
  };

  const server = new Server();
  server.addService(service, {
    Unary: unary,
    ServerStream: serverStream,
    ClientStream: clientStream,
    BidiStream: bidiStream,
  });
  const bindHost = host.includes(':') ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${bindHost}:0`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });

  return {
    port,
    address: `${bindHost}:${port}`,
    name,
    get calls() {
      return calls;
    },
    close: async () => {
      server.forceShutdown();
    },
  };
};
