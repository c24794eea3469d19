import type { RoundRobinPicker } from './endpoint-picker.js';

/** A set of endpoints a route sends (or mirrors) to: a service, or the subset of it with some labels. */
export interface Backend {
  /** `name.namespace`, with `[k=v,...]` when it is a subset. */
  readonly name: string;
  readonly service: string;
  readonly picker: RoundRobinPicker;
}

/** The name of a backend: its service key, with the subset's labels when it has any. */
export const backendName = (service: string, subset: Readonly<Record<string, string>> | undefined): string =>
  subset === undefined || Object.keys(subset).length === 0
    ? service
    : `${service}[${Object.entries(subset)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}]`;
