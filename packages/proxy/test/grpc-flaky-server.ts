/**
 * A scripted gRPC backend for the destination policy tests over HTTP/2: the echo service
 * (packages/testing/proto/echo.proto) whose Unary and ClientStream calls are counted by
 * their `x-id` metadata and answered as the `x-script` metadata says:
 *
 * - `fail-first`: the first call of an id fails with UNAVAILABLE, later ones succeed;
 * - `fail-always`: every call fails with UNAVAILABLE;
 * - `hold`: the call is answered once {@link FlakyGrpc.release} opens the gate;
 * - `stall`: the call is never answered (the client gives up, or the server closes);
 * - anything else (or none): the call succeeds.
 *
 * A failure is sent before any response header (a Trailers-Only response), only after the
 * whole request was read, so that a proxy sees the status in the response head and may
 * retry with the body it kept. Each call records the request messages it read, so a test
 * can tell that a retried call carried the same request. ServerStream answers `count`
 * replies, as the echo server does. Not a test file itself.
 */
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { echoMethodDefinition, type EchoReply, type EchoRequest } from '@weft/testing';
import type { TestContext } from './http1-mesh-fixture.js';

/** One call as the server saw it. */
export interface SeenCall {
  readonly id: string;
  readonly method: 'Unary' | 'ClientStream';
  /** The request messages read, in order. */
  readonly messages: readonly string[];
  /** 1 for the first call with this id, 2 for the second, ... */
  readonly nth: number;
}

export interface FlakyGrpc {
  readonly port: number;
  readonly name: string;
  /** Calls seen with this id. */
  seen(id: string): readonly SeenCall[];
  /** Calls of any method and id seen so far. */
  total(): number;
  /** Opens the gate: held calls are answered, later ones at once. */
  release(): void;
}

const firstValue = (md: Metadata, key: string): string => {
  const v = md.get(key)[0];
  return typeof v === 'string' ? v : '';
};

/** Starts the server on loopback; it is shut down when the test ends. */
export const startFlakyGrpc = async (t: TestContext, name: string): Promise<FlakyGrpc> => {
  const byId = new Map<string, SeenCall[]>();
  let total = 0;
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });

  const record = (md: Metadata, method: SeenCall['method'], messages: string[]): { call: SeenCall; script: string } => {
    const id = firstValue(md, 'x-id');
    const list = byId.get(id) ?? [];
    const call: SeenCall = { id, method, messages, nth: list.length + 1 };
    list.push(call);
    byId.set(id, list);
    return { call, script: firstValue(md, 'x-script') };
  };

  const reply = (r: Partial<EchoReply>): EchoReply => ({ message: '', index: 0, sum: 0, metadata: {}, ...r, servedBy: name });

  /** Answers per the script: UNAVAILABLE (Trailers-Only), or `ok` now or once the gate opens. */
  const answer = (seen: { call: SeenCall; script: string }, done: sendUnaryData<EchoReply>, ok: EchoReply): void => {
    const { call, script } = seen;
    if (script === 'fail-always' || (script === 'fail-first' && call.nth === 1)) {
      done({ code: status.UNAVAILABLE, details: `${name}: ${call.id} call #${call.nth} fails` });
      return;
    }
    const md = new Metadata();
    md.set('x-call', String(call.nth));
    if (script === 'stall') return;
    if (script === 'hold') void gate.then(() => done(null, ok, md));
    else done(null, ok, md);
  };

  const unary = (call: ServerUnaryCall<EchoRequest, EchoReply>, done: sendUnaryData<EchoReply>): void => {
    total++;
    const seen = record(call.metadata, 'Unary', [call.request.message]);
    answer(seen, done, reply({ message: call.request.message, index: seen.call.nth }));
  };

  const clientStream = (call: ServerReadableStream<EchoRequest, EchoReply>, done: sendUnaryData<EchoReply>): void => {
    total++;
    const messages: string[] = [];
    call.on('data', (req: EchoRequest) => messages.push(req.message));
    call.on('error', () => {
      // The client or the proxy cancelled: grpc-js has already ended the call.
    });
    call.on('end', () => {
      const seen = record(call.metadata, 'ClientStream', messages);
      answer(seen, done, reply({ message: messages.join(''), index: messages.length }));
    });
  };

  const serverStream = (call: ServerWritableStream<EchoRequest, EchoReply>): void => {
    total++;
    for (let index = 0; index < call.request.count; index++) call.write(reply({ message: call.request.message, index }));
    call.end();
  };

  const service: ServiceDefinition = {
    Unary: echoMethodDefinition('Unary'),
    ServerStream: echoMethodDefinition('ServerStream'),
    ClientStream: echoMethodDefinition('ClientStream'),
  };
  const server = new Server();
  server.addService(service, { Unary: unary, ServerStream: serverStream, ClientStream: clientStream });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  t.after(async () => {
    open();
    server.forceShutdown();
  });
  return {
    port,
    name,
    seen: (id) => byId.get(id) ?? [],
    total: () => total,
    release: () => open(),
  };
};
