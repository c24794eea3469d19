import { WEFT_API_VERSION, WorkloadSchema, type AppProtocol, type Hello, type Workload, type WorkloadHealth } from '@weft/api';
import type { ConditionInput } from '../manager/index.js';

/** Annotation on a registered Workload: the app protocol its proxy declared (the compiler implies Services with it). */
export const APP_PROTOCOL_ANNOTATION = 'weft.dev/app-protocol';
/** Annotation on a Service the registry created because a workload named it and none was declared. */
export const IMPLIED_BY_ANNOTATION = 'weft.dev/implied-by';

/** Everything the registry stores about one registered workload. */
export interface DesiredWorkload {
  readonly namespace: string;
  readonly name: string;
  readonly service: string;
  readonly address: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly appProtocol: AppProtocol | undefined;
  readonly health: WorkloadHealth;
  /** The `Ready` condition (stamped by the manager). */
  readonly ready: ConditionInput;
  readonly proxy: {
    readonly id: string;
    readonly version?: string;
    readonly connected: boolean;
    readonly connectedAt?: string;
    readonly lastSeenAt?: string;
  } | undefined;
  readonly config: {
    readonly acknowledgedVersion?: string;
    readonly acknowledgedAt?: string;
    readonly rejectedVersion?: string;
    readonly rejectedReason?: string;
  };
}

/** The Workload document (spec and metadata, no status) of a registered workload. */
export const workloadDocument = (w: DesiredWorkload, annotations: Readonly<Record<string, string>> = {}): object => ({
  apiVersion: WEFT_API_VERSION,
  kind: 'Workload',
  metadata: {
    name: w.name,
    namespace: w.namespace,
    labels: { ...w.labels },
    annotations: { ...annotations, ...(w.appProtocol === undefined ? {} : { [APP_PROTOCOL_ANNOTATION]: w.appProtocol }) },
  },
  spec: { service: w.service, address: w.address, port: w.port, inMesh: true },
});

/** Why a hello's names or labels cannot be registered, field by field, or undefined when they can. */
export const helloRegistrationProblem = (hello: Hello): string | undefined => {
  const r = WorkloadSchema.safeParse({
    apiVersion: WEFT_API_VERSION,
    kind: 'Workload',
    metadata: { name: hello.workload, namespace: hello.namespace, labels: hello.labels },
    spec: { service: hello.service, address: hello.address, port: hello.port, inMesh: true },
  });
  if (r.success) return undefined;
  const helloField = (path: readonly PropertyKey[]): string => {
    const [a, b, ...rest] = path.map(String);
    if (a === 'metadata' && b === 'name') return 'workload';
    if (a === 'metadata' && b === 'labels') return ['labels', ...rest].join('.');
    return b ?? a ?? '(hello)';
  };
  return `the hello cannot be registered as a Workload: ${r.error.issues.map((i) => `${helloField(i.path)}: ${i.message}`).join('; ')}`;
};

/** True when the stored Workload `current` already holds `w`'s spec, labels and protocol annotation. */
export const sameRegistration = (current: Workload, w: DesiredWorkload): boolean => {
  const s = current.spec;
  const labels = Object.entries(current.metadata.labels).sort();
  const want = Object.entries(w.labels).sort();
  return (
    s.inMesh &&
    s.service === w.service &&
    s.address === w.address &&
    s.port === w.port &&
    JSON.stringify(labels) === JSON.stringify(want) &&
    (w.appProtocol === undefined || current.metadata.annotations[APP_PROTOCOL_ANNOTATION] === w.appProtocol)
  );
};
