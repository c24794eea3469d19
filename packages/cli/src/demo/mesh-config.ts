import { readDocumentFile, WeftError } from '@weft/core';
import { z } from 'zod';

/**
 * The demo's mesh description (examples/demo/mesh.yaml): services, their instances and
 * the commands that run them, who calls whom and how, and the routes (the canary). The
 * demo compiles it into one proxy snapshot per sidecar; it is not a Weft resource kind,
 * only the static stand-in for what the control plane will hold.
 */

const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 label');
const labels = z.record(z.string().min(1).max(63), z.string().max(63));

export const CallSchema = z.strictObject({
  service: dnsLabel,
  /** `upstream`: an explicit outbound listener; `http-proxy`: the sidecar's HTTP_PROXY listener. */
  via: z.enum(['upstream', 'http-proxy']),
});

export const DemoRouteSchema = z.strictObject({
  name: z.string().min(1),
  backendRefs: z
    .array(
      z.strictObject({
        /** Defaults to the service the route belongs to. */
        service: dnsLabel.optional(),
        subset: labels.optional(),
        weight: z.number().int().min(0).max(1_000_000),
      }),
    )
    .min(1),
});

export const InstanceSchema = z.strictObject({
  labels: labels.default({}),
  /** argv; `node` means the Node.js running the demo. Run in the folder of mesh.yaml. */
  command: z.array(z.string().min(1)).min(1),
  env: z.record(z.string(), z.string()).default({}),
});

export const DemoServiceSchema = z.strictObject({
  name: dnsLabel,
  calls: z.array(CallSchema).default([]),
  routes: z.array(DemoRouteSchema).default([]),
  instances: z.array(InstanceSchema).min(1),
});

export const DemoMeshSchema = z
  .strictObject({
    namespace: dnsLabel.default('default'),
    ingress: z.strictObject({ service: dnsLabel.default('ingress'), to: dnsLabel }),
    traffic: z
      .strictObject({
        ratePerSecond: z.number().min(0).max(200).default(4),
        path: z.string().startsWith('/', 'must start with "/"').default('/'),
      })
      .default({ ratePerSecond: 4, path: '/' }),
    services: z.array(DemoServiceSchema).min(1),
  })
  .superRefine((mesh, ctx) => {
    const names = new Set<string>();
    mesh.services.forEach((s, i) => {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `duplicate service "${s.name}"` });
      names.add(s.name);
    });
    if (names.has(mesh.ingress.service)) {
      ctx.addIssue({ code: 'custom', path: ['ingress', 'service'], message: `"${mesh.ingress.service}" is also a service; the ingress needs a name of its own` });
    }
    if (!names.has(mesh.ingress.to)) {
      ctx.addIssue({ code: 'custom', path: ['ingress', 'to'], message: `no service "${mesh.ingress.to}" in services` });
    }
    mesh.services.forEach((s, i) => {
      s.calls.forEach((c, j) => {
        if (!names.has(c.service)) ctx.addIssue({ code: 'custom', path: ['services', i, 'calls', j, 'service'], message: `no service "${c.service}" in services` });
      });
      s.routes.forEach((r, j) => {
        r.backendRefs.forEach((ref, k) => {
          const target = mesh.services.find((t) => t.name === (ref.service ?? s.name));
          if (target === undefined) {
            ctx.addIssue({ code: 'custom', path: ['services', i, 'routes', j, 'backendRefs', k, 'service'], message: `no service "${ref.service ?? ''}" in services` });
            return;
          }
          const subset = ref.subset ?? {};
          if (!target.instances.some((inst) => Object.entries(subset).every(([key, v]) => inst.labels[key] === v))) {
            ctx.addIssue({ code: 'custom', path: ['services', i, 'routes', j, 'backendRefs', k, 'subset'], message: `no instance of "${target.name}" has these labels` });
          }
        });
      });
      const instanceNames = new Set<string>();
      s.instances.forEach((inst, j) => {
        const n = instanceName(s.name, inst.labels, j, s.instances.length);
        if (instanceNames.has(n)) {
          ctx.addIssue({ code: 'custom', path: ['services', i, 'instances', j, 'labels'], message: `two instances of "${s.name}" would both be named "${n}": give each a distinct version label` });
        }
        instanceNames.add(n);
      });
    });
  });
export type DemoMesh = z.infer<typeof DemoMeshSchema>;
export type DemoService = z.infer<typeof DemoServiceSchema>;

/**
 * An instance's name: the service's, and when the service has several instances, with its
 * `version` label (or its position, counting from 1).
 */
export const instanceName = (service: string, labels: Readonly<Record<string, string>>, index: number, count: number): string => {
  if (count <= 1) return service;
  const v = labels['version'];
  return v === undefined ? `${service}-${index + 1}` : `${service}-${v}`;
};

/** Reads and validates mesh.yaml; errors name the file, line and field. */
export const loadDemoMesh = async (file: string): Promise<DemoMesh> => {
  try {
    return await readDocumentFile(DemoMeshSchema, file);
  } catch (err) {
    if (err instanceof WeftError) throw err;
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', `${file}: ${String(err)}`, { file });
  }
};
