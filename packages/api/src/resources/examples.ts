/**
 * One example document per kind: shown in the generated reference, and parsed by the
 * tests, so that no documented example is ever invalid.
 */

export const MESH_EXAMPLE = `apiVersion: weft.dev/v1alpha1
kind: Mesh
metadata:
  name: default
spec:
  trustDomain: example.org
  mtls:
    mode: STRICT
    certificateLifetime: 24h
  tracing:
    samplingPercentage: 5
  accessLog:
    enabled: true
  authorization:
    defaultAction: DENY
  defaults:
    destinationPolicy:
      loadBalancer:
        type: LEAST_REQUEST
      outlierDetection:
        consecutive5xx: 5
        interval: 10s
        baseEjectionTime: 30s
    route:
      timeouts:
        request: 15s
`;

export const SERVICE_EXAMPLE = `apiVersion: weft.dev/v1alpha1
kind: Service
metadata:
  name: reviews
  namespace: shop
spec:
  ports:
    - name: http
      port: 9080
      appProtocol: http
    - name: grpc
      port: 9090
      appProtocol: grpc
---
# The subset of reviews running version v2: a backend for canary routes.
apiVersion: weft.dev/v1alpha1
kind: Service
metadata:
  name: reviews-v2
  namespace: shop
spec:
  subsetOf:
    service: reviews
    labels:
      version: v2
`;

export const WORKLOAD_EXAMPLE = `# An instance outside the mesh, declared by hand (proxied instances register themselves).
apiVersion: weft.dev/v1alpha1
kind: Workload
metadata:
  name: payments-legacy-1
  namespace: shop
  labels:
    version: v1
    zone: eu-west-1a
spec:
  service: payments-legacy
  address: 10.0.3.17
  port: 8080
`;

export const HTTP_ROUTE_EXAMPLE = `# 90/10 canary of reviews, with a header override for testers.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews
  namespace: shop
spec:
  parentRefs:
    - group: ""
      kind: Service
      name: reviews
      port: 9080
  rules:
    - name: testers
      matches:
        - path:
            type: PathPrefix
            value: /reviews
          headers:
            - name: x-canary
              value: "true"
      backendRefs:
        - name: reviews-v2
          port: 9080
    - name: split
      matches:
        - path:
            type: PathPrefix
            value: /reviews
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set:
              - name: x-route
                value: split
      backendRefs:
        - name: reviews-v1
          port: 9080
          weight: 90
        - name: reviews-v2
          port: 9080
          weight: 10
      timeouts:
        request: 10s
        backendRequest: 2s
      retry:
        codes: [502, 503]
        attempts: 2
        backoff: 100ms
`;

export const GRPC_ROUTE_EXAMPLE = `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata:
  name: ratings
  namespace: shop
spec:
  parentRefs:
    - group: ""
      kind: Service
      name: ratings
      port: 9090
  rules:
    - name: writes-to-v2
      matches:
        - method:
            service: shop.Ratings
            method: Rate
      backendRefs:
        - name: ratings-v2
          port: 9090
    - backendRefs:
        - name: ratings
          port: 9090
`;

export const DESTINATION_POLICY_EXAMPLE = `apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata:
  name: reviews
  namespace: shop
spec:
  targetRef:
    kind: Service
    name: reviews
  loadBalancer:
    type: RING_HASH
    hashKey:
      type: HEADER
      name: x-user-id
  connectionPool:
    maxConnections: 100
    maxPendingRequests: 50
    maxRequests: 200
    maxRetries: 5
  outlierDetection:
    consecutive5xx: 3
    interval: 5s
    baseEjectionTime: 30s
    maxEjectionPercent: 50
  healthCheck:
    type: HTTP
    path: /healthz
    interval: 5s
    timeout: 1s
  retryBudget:
    ratio: 0.1
    minRetriesPerSecond: 5
  locality:
    enabled: true
    failover:
      - from: eu-west-1a
        to: [eu-west-1b]
`;

export const AUTHORIZATION_POLICY_EXAMPLE = `# Only the frontend may read reviews; nobody may call the admin API.
apiVersion: weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata:
  name: reviews-readers
  namespace: shop
spec:
  targetRef:
    kind: Service
    name: reviews
  action: ALLOW
  rules:
    - from:
        - principals: ["spiffe://cluster.local/ns/shop/sa/frontend"]
      to:
        - methods: [GET, HEAD]
          paths: ["/reviews/*", "/healthz"]
---
apiVersion: weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata:
  name: no-admin
  namespace: shop
spec:
  targetRef:
    kind: Service
    name: reviews
  action: DENY
  rules:
    - to:
        - paths: ["/admin/*"]
      when:
        - header: x-debug
          notValues: ["allowed"]
`;

export const RATE_LIMIT_POLICY_EXAMPLE = `apiVersion: weft.dev/v1alpha1
kind: RateLimitPolicy
metadata:
  name: reviews-per-caller
  namespace: shop
spec:
  targetRef:
    kind: Service
    name: reviews
  mode: GLOBAL
  redis:
    address: 127.0.0.1:6379
    failureMode: OPEN
  limits:
    - tokens: 100
      interval: 1s
      burst: 200
      key:
        type: SOURCE_IDENTITY
    - tokens: 1000
      interval: 1s
`;

export const FAULT_POLICY_EXAMPLE = `# A drill: 5% of calls to the split rule of the reviews route wait 2s, 1% fail with 503.
apiVersion: weft.dev/v1alpha1
kind: FaultPolicy
metadata:
  name: reviews-drill
  namespace: shop
spec:
  targetRef:
    kind: HTTPRoute
    name: reviews
    sectionName: split
  matches:
    - path:
        type: PathPrefix
        value: /reviews
  delay:
    fixedDelay: 2s
    percentage: 5
  abort:
    httpStatus: 503
    percentage: 1
`;
