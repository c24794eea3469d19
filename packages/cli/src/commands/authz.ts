import { InvalidArgumentError, Option, type Command } from 'commander';
import { MeshSpecSchema, findResourceKind, parseResource, type AuthorizationPolicy, type MeshSpec, type ResourceKind } from '@weft/api';
import { WeftError } from '@weft/core';
import { ApiClient } from '../client/api-client.js';
import { addApiOptions, resolveApiConfig, type ApiFlags } from '../client/api-config.js';

/**
 * `weft authz check`: would a request from one service to another be allowed, and by which
 * policy and rule. It reads the Mesh and the AuthorizationPolicies from the REST API, then
 * compiles them with the control plane's compiler and judges the request with the proxy's
 * evaluator: the same code, so the answer is the proxy's.
 */

/** Exit codes, as the command's help says. */
const EXIT_ALLOWED = 0;
const EXIT_DENIED = 1;
/** Usage errors exit 2 through the CLI's main (commander errors). */
const EXIT_UNKNOWN = 3;

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A service as the command takes it: `SERVICE[.NAMESPACE]`. */
interface ServiceRef {
  readonly name: string;
  readonly namespace: string;
}

const serviceRef =
  (flag: string) =>
  (value: string): ServiceRef => {
    const [name = '', namespace = 'default', ...rest] = value.split('.');
    if (rest.length > 0 || !LABEL.test(name) || !LABEL.test(namespace)) {
      throw new InvalidArgumentError(`${flag} takes SERVICE or SERVICE.NAMESPACE (lower-case DNS labels), e.g. reviews or reviews.shop`);
    }
    return { name, namespace };
  };

const method = (value: string): string => {
  const m = value.toUpperCase();
  if (!/^[A-Z]+$/.test(m)) throw new InvalidArgumentError('an HTTP method is letters only, e.g. GET (gRPC calls are POST)');
  return m;
};

const path = (value: string): string => {
  if (!value.startsWith('/')) throw new InvalidArgumentError('a path starts with "/", e.g. /reviews/1 (gRPC: /package.Service/Method)');
  return value;
};

const header = (value: string, previous: readonly string[] | undefined): string[] => {
  const eq = value.indexOf('=');
  const name = eq < 0 ? '' : value.slice(0, eq).trim().toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw new InvalidArgumentError('a header is NAME=VALUE, e.g. x-tenant=acme');
  return [...(previous ?? []), name, value.slice(eq + 1)];
};

interface CheckFlags extends ApiFlags {
  readonly from: ServiceRef;
  readonly to: ServiceRef;
  readonly method: string;
  readonly path: string;
  /** Raw headers, `[name, value, ...]`. */
  readonly header?: readonly string[];
  readonly output?: 'json';
}

const kind = (name: string): ResourceKind => {
  const k = findResourceKind(name);
  if (k === undefined) throw new Error(`no resource kind ${name}`);
  return k;
};

/** The Mesh's spec: the stored one, or the defaults when none was applied. */
const meshSpec = async (client: ApiClient): Promise<MeshSpec> => {
  try {
    const mesh = parseResource(await client.get(kind('Mesh'), '', 'default'));
    return mesh.kind === 'Mesh' ? mesh.spec : MeshSpecSchema.parse({});
  } catch (err) {
    if (err instanceof WeftError && err.code === 'WEFT_ERR_API_NOT_FOUND') return MeshSpecSchema.parse({});
    throw err;
  }
};

const policiesIn = async (client: ApiClient, namespace: string): Promise<AuthorizationPolicy[]> =>
  (await client.list(kind('AuthorizationPolicy'), namespace)).map(parseResource).filter((r): r is AuthorizationPolicy => r.kind === 'AuthorizationPolicy');

const check = async (flags: CheckFlags): Promise<number> => {
  // Loaded here: only this command needs the compiler and the evaluator.
  const [{ compileInboundAuthorization }, { compileAuthorizer, peerIdentityFromPrincipal, readRawHeader }] = await Promise.all([
    import('@weft/control-plane'),
    import('@weft/proxy'),
  ]);
  const client = new ApiClient(() => resolveApiConfig(flags));
  const [mesh, policies] = await Promise.all([meshSpec(client), policiesIn(client, flags.to.namespace)]);
  const config = compileInboundAuthorization({
    service: flags.to.name,
    namespace: flags.to.namespace,
    policies,
    defaultAction: mesh.authorization.defaultAction,
  });
  // A caller's service account is its service name.
  const principal = `spiffe://${mesh.trustDomain}/ns/${flags.from.namespace}/sa/${flags.from.name}`;
  const peer = peerIdentityFromPrincipal(principal);
  const decision = compileAuthorizer(config).decide(flags.method, flags.path, peer, flags.header ?? [], readRawHeader);
  const from = `${flags.from.name}.${flags.from.namespace}`;
  const to = `${flags.to.name}.${flags.to.namespace}`;
  if (flags.output === 'json') {
    const out = {
      allowed: decision.allowed,
      basis: decision.basis,
      policy: decision.policy ?? null,
      rule: decision.rule ?? null,
      reason: decision.reason,
      request: { method: flags.method, path: flags.path, from, principal, to },
      defaultAction: config.defaultAction,
      policies: config.policies.map((p) => ({ name: p.name, action: p.action, rules: p.rules.length })),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const applying = config.policies.length === 0 ? 'none' : config.policies.map((p) => `${p.name} (${p.action})`).join(', ');
    process.stdout.write(
      [
        decision.reason,
        `  request   ${flags.method} ${flags.path}`,
        `  from      ${from} (${principal})`,
        `  to        ${to}`,
        `  policies  ${applying}; mesh default ${config.defaultAction}`,
        '',
      ].join('\n'),
    );
  }
  return decision.allowed ? EXIT_ALLOWED : EXIT_DENIED;
};

/** `weft authz check`. */
export const registerAuthzCommand = (program: Command): void => {
  const authz = program.command('authz').description('authorization: which AuthorizationPolicy decides a request');
  addApiOptions(
    authz
      .command('check')
      .description(
        'would a request from one service to another be allowed, and by which policy and rule; exit 0 allowed, 1 denied, 2 usage error, 3 could not check (control plane unreachable, ...)',
      )
      .requiredOption('--from <service>', 'the calling service, SERVICE[.NAMESPACE] (namespace "default" if omitted); it calls as spiffe://<trust domain>/ns/<namespace>/sa/<service>', serviceRef('--from'))
      .requiredOption('--to <service>', 'the called service, SERVICE[.NAMESPACE]', serviceRef('--to'))
      .option('--method <method>', 'HTTP method (gRPC calls are POST)', method, 'GET')
      .option('--path <path>', 'request path, query ignored (gRPC: /package.Service/Method)', path, '/')
      .option('--header <name=value>', 'a request header; repeat for more', header)
      .addOption(new Option('-o, --output <format>', 'output format (default: text)').choices(['json'])),
  ).action(async (flags: CheckFlags) => {
    try {
      process.exitCode = await check(flags);
    } catch (err) {
      // Not knowing must not read as "denied" (exit 1) to a script.
      if (!(err instanceof WeftError)) throw err;
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      process.exitCode = EXIT_UNKNOWN;
    }
  });
};
