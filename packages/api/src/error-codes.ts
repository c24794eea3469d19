/**
 * Every stable error code Weft emits, with the response it becomes when it reaches a client
 * and a one-line summary. `docs/errors.md` documents each; a test keeps the two in sync.
 *
 * `flag` is the Envoy-style response flag a user sees in access logs and the
 * `x-weft-error` header; `status` is the HTTP status the proxy answers with.
 */
export const ERROR_CODES = {
  WEFT_ERR_PROXY_NO_ROUTE: { status: 404, flag: 'NR', summary: 'no service or route matches the request' },
  WEFT_ERR_PROXY_NO_HEALTHY_UPSTREAM: { status: 503, flag: 'UH', summary: 'the chosen backend has no endpoints' },
  WEFT_ERR_PROXY_UPSTREAM_CONNECT: { status: 503, flag: 'UF', summary: 'connecting to the upstream failed' },
  WEFT_ERR_PROXY_UPSTREAM_RESET: {
    status: 503,
    flag: 'UC',
    summary: 'the upstream closed or reset the connection before a response',
  },
  WEFT_ERR_PROXY_UPSTREAM_PROTOCOL: { status: 502, flag: 'UPE', summary: 'the upstream sent a malformed response' },
  WEFT_ERR_PROXY_UPSTREAM_TIMEOUT: { status: 504, flag: 'UT', summary: 'the upstream did not answer in time' },
  WEFT_ERR_PROXY_OVERFLOW: { status: 503, flag: 'UO', summary: 'a connection pool or queue limit was reached' },
  WEFT_ERR_PROXY_DOWNSTREAM_RESET: {
    status: 499,
    flag: 'DC',
    summary: 'the client closed the connection before the response completed',
  },
  WEFT_ERR_HTTP_BAD_REQUEST: { status: 400, flag: 'DPE', summary: 'the request is not valid HTTP' },
  WEFT_ERR_HTTP_SMUGGLING: {
    status: 400,
    flag: 'DPE',
    summary: 'the request framing is ambiguous (Content-Length with Transfer-Encoding, or differing lengths)',
  },
  WEFT_ERR_HTTP_HEADERS_TOO_LARGE: { status: 431, flag: 'DPE', summary: 'the request head is larger than allowed' },
  WEFT_ERR_HTTP_BODY_TOO_LARGE: { status: 413, flag: 'DPE', summary: 'the request body is larger than allowed' },
  WEFT_ERR_HTTP_HEADERS_TIMEOUT: { status: 408, flag: 'DPE', summary: 'the client did not send a request head in time' },
  WEFT_ERR_CONFIG_INVALID: { status: 500, flag: '-', summary: 'a configuration document is not valid YAML or failed validation' },
  WEFT_ERR_CONFIG_READ: { status: 500, flag: '-', summary: 'a configuration file could not be read' },
  WEFT_ERR_STORE_CONFLICT: {
    status: 409,
    flag: '-',
    summary: 'the expected revision is not the stored one: someone else changed the item first',
  },
  WEFT_ERR_STORE_ALREADY_EXISTS: { status: 409, flag: '-', summary: 'an item with this key already exists' },
  WEFT_ERR_STORE_NOT_FOUND: { status: 404, flag: '-', summary: 'no item with this key exists' },
  WEFT_ERR_STORE_INVALID_KEY: { status: 400, flag: '-', summary: 'a store key or filter is not well formed' },
  WEFT_ERR_STORE_INVALID_VALUE: { status: 400, flag: '-', summary: 'a stored value is not a JSON object' },
  WEFT_ERR_STORE_INVALID_REVISION: { status: 400, flag: '-', summary: 'a revision argument is not an integer >= 1' },
  WEFT_ERR_STORE_TOO_LARGE: { status: 413, flag: '-', summary: 'a value is larger than the store accepts' },
  WEFT_ERR_STORE_CLOSED: { status: 503, flag: '-', summary: 'the store was closed' },
  WEFT_ERR_STORE_IO: { status: 500, flag: '-', summary: 'the store could not read or write its files' },
  WEFT_ERR_STORE_CORRUPT: { status: 500, flag: '-', summary: 'the store files are damaged beyond what a crash explains' },
  WEFT_ERR_STORE_LOCKED: { status: 500, flag: '-', summary: 'another live process has the store directory open' },
  WEFT_ERR_API_UNAUTHORIZED: { status: 401, flag: '-', summary: 'the request carries no admin token, or a wrong one' },
  WEFT_ERR_API_BAD_REQUEST: { status: 400, flag: '-', summary: 'the request body is not JSON of the expected shape, or a parameter is malformed' },
  WEFT_ERR_API_INVALID_RESOURCE: { status: 400, flag: '-', summary: 'a resource document failed validation; every issue is listed with its field' },
  WEFT_ERR_API_NOT_FOUND: { status: 404, flag: '-', summary: 'no such resource, kind or API path' },
  WEFT_ERR_API_UNSUPPORTED_MEDIA_TYPE: { status: 415, flag: '-', summary: 'the request body is not application/json' },
  WEFT_ERR_API_TOO_LARGE: { status: 413, flag: '-', summary: 'the request body or one document in it is larger than allowed' },
  WEFT_ERR_API_TOO_MANY_DOCUMENTS: { status: 413, flag: '-', summary: 'a batch holds more documents than one apply accepts' },
  WEFT_ERR_API_ROLLBACK_FAILED: { status: 500, flag: '-', summary: 'a batch failed midway and some of its writes could not be undone' },
  WEFT_ERR_API_INTERNAL: { status: 500, flag: '-', summary: 'the control plane failed unexpectedly while answering' },
  WEFT_ERR_API_UNREACHABLE: { status: 503, flag: '-', summary: 'the CLI could not reach the control plane REST API' },
  WEFT_ERR_STREAM_BAD_MESSAGE: { status: 400, flag: '-', summary: 'a config stream message is not JSON, has an unknown type, or fails its schema' },
  WEFT_ERR_STREAM_TOO_LARGE: { status: 413, flag: '-', summary: 'a config stream message is longer than the stream accepts' },
  WEFT_ERR_STREAM_HELLO_TIMEOUT: { status: 408, flag: '-', summary: 'a proxy opened the config stream but sent no hello in time' },
  WEFT_ERR_STREAM_UNEXPECTED_MESSAGE: { status: 400, flag: '-', summary: 'a config stream message came out of order, or acknowledged a version never sent' },
  WEFT_ERR_STREAM_REPLACED: { status: 409, flag: '-', summary: 'a newer stream registered the same workload; this one was closed' },
  WEFT_ERR_STREAM_SHUTDOWN: { status: 503, flag: '-', summary: 'the control plane is shutting down; proxies keep their config and reconnect' },
  WEFT_ERR_STREAM_UNREACHABLE: { status: 503, flag: '-', summary: 'the proxy could not reach the control plane config stream, or lost it' },
  WEFT_ERR_STREAM_INTERNAL: { status: 500, flag: '-', summary: 'the control plane failed while serving one stream; that stream is closed and the proxy reconnects' },
} as const satisfies Record<string, { status: number; flag: string; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
