import { endpointKey } from '../routing/endpoint-picker.js';
import { systemClock, systemTimer } from '../resilience/clock.js';
import type { DestinationEnv } from './destination.js';
import { meshProbe } from './mesh-probe.js';

/**
 * Destinations of a routing table made on its own (tests of routing): system time, no
 * caller zone, and plaintext probes. A running proxy gives its own env (see ConfigState).
 */
export const staticDestinationEnv: DestinationEnv = {
  clock: systemClock,
  timer: systemTimer,
  random: Math.random,
  caller: {},
  probeFor: (service, spec) =>
    meshProbe(service, spec, (e) => ({ key: endpointKey(e.address, e.port), host: e.address, port: e.port, connectTimeoutMs: spec.timeoutMs })),
};
