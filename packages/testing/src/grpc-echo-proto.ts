import { loadSync, type AnyDefinition, type MethodDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/**
 * The `weft.testing.echo.v1.Echo` service (proto/echo.proto): its message types as
 * TypeScript sees them and its four methods, with every decoded message checked at
 * runtime so that nothing untyped leaks out of protobuf into a test.
 */

/** Absolute path of echo.proto, for tools (e.g. grpcurl) and other loaders. */
export const ECHO_PROTO_PATH: string = fileURLToPath(new URL('../proto/echo.proto', import.meta.url));

/** Full service name, as it appears in gRPC paths (`/weft.testing.echo.v1.Echo/Unary`). */
export const ECHO_SERVICE_NAME = 'weft.testing.echo.v1.Echo';

/** A decoded request: every field present (proto3 defaults filled in). */
export interface EchoRequest {
  message: string;
  /** ServerStream: how many replies. */
  count: number;
  /** ClientStream: summed into the reply. */
  number: number;
  /** Non-zero: end the call with this gRPC status code. */
  failWithCode: number;
  failMessage: string;
  /** Wait this long before replying. */
  delayMs: number;
}

/** A request as a client writes it: any field may be left out. */
export type EchoRequestInput = Partial<EchoRequest>;

/** A decoded reply: every field present. */
export interface EchoReply {
  message: string;
  index: number;
  sum: number;
  servedBy: string;
  /** Request metadata the server saw (Unary only; string values only). */
  metadata: Record<string, string>;
}

/** The four method names, by call kind. */
export type EchoMethodName = 'Unary' | 'ServerStream' | 'ClientStream' | 'BidiStream';

/** One method with typed (de)serializers on both sides of the wire. */
export interface EchoMethod {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly serializeRequest: (req: EchoRequestInput) => Buffer;
  readonly deserializeRequest: (buf: Buffer) => EchoRequest;
  readonly serializeReply: (reply: EchoReply) => Buffer;
  readonly deserializeReply: (buf: Buffer) => EchoReply;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

const field = <T>(o: Record<string, unknown>, key: string, check: (v: unknown) => v is T, what: string): T => {
  const v = o[key];
  if (!check(v)) throw new TypeError(`echo.proto: field ${key} is not ${what}: ${String(v)}`);
  return v;
};
const isString = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isStringMap = (v: unknown): v is Record<string, string> =>
  isRecord(v) && Object.values(v).every((x) => typeof x === 'string');

/** Checks a decoded object against {@link EchoRequest}. */
export const asEchoRequest = (o: unknown): EchoRequest => {
  if (!isRecord(o)) throw new TypeError('echo.proto: request is not an object');
  return {
    message: field(o, 'message', isString, 'a string'),
    count: field(o, 'count', isInt, 'an integer'),
    number: field(o, 'number', isInt, 'an integer'),
    failWithCode: field(o, 'failWithCode', isInt, 'an integer'),
    failMessage: field(o, 'failMessage', isString, 'a string'),
    delayMs: field(o, 'delayMs', isInt, 'an integer'),
  };
};

/** Checks a decoded object against {@link EchoReply}. */
export const asEchoReply = (o: unknown): EchoReply => {
  if (!isRecord(o)) throw new TypeError('echo.proto: reply is not an object');
  return {
    message: field(o, 'message', isString, 'a string'),
    index: field(o, 'index', isInt, 'an integer'),
    sum: field(o, 'sum', isInt, 'an integer'),
    servedBy: field(o, 'servedBy', isString, 'a string'),
    metadata: field(o, 'metadata', isStringMap, 'a string map'),
  };
};

const isService = (d: AnyDefinition): d is ServiceDefinition => !('format' in d);

const loadMethods = (): Record<EchoMethodName, EchoMethod> => {
  // camelCase field names and every default filled in, so decoded messages have one shape.
  const pkg = loadSync(ECHO_PROTO_PATH, { keepCase: false, longs: Number, enums: String, defaults: true });
  const service = pkg[ECHO_SERVICE_NAME];
  if (service === undefined || !isService(service)) throw new Error(`${ECHO_PROTO_PATH}: no service ${ECHO_SERVICE_NAME}`);
  const method = (name: EchoMethodName): EchoMethod => {
    const m: MethodDefinition<object, object> | undefined = service[name];
    if (m === undefined) throw new Error(`${ECHO_PROTO_PATH}: no method ${name}`);
    return {
      path: m.path,
      requestStream: m.requestStream,
      responseStream: m.responseStream,
      serializeRequest: (req) => m.requestSerialize(req),
      deserializeRequest: (buf) => asEchoRequest(m.requestDeserialize(buf)),
      serializeReply: (reply) => m.responseSerialize(reply),
      deserializeReply: (buf) => asEchoReply(m.responseDeserialize(buf)),
    };
  };
  return {
    Unary: method('Unary'),
    ServerStream: method('ServerStream'),
    ClientStream: method('ClientStream'),
    BidiStream: method('BidiStream'),
  };
};

/** The service's methods, loaded once from echo.proto. */
export const ECHO_METHODS: Readonly<Record<EchoMethodName, EchoMethod>> = loadMethods();
