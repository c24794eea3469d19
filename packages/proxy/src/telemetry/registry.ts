import { escapeHelp, formatValue, LABEL_NAME, METRIC_NAME, renderLabelPairs } from './exposition.js';

/**
 * A lean Prometheus registry for the proxy's hot path. A metric family hands out one child
 * per combination of label values; the child is cached and keeps its label string rendered
 * once, so that `inc`, `set` and `observe` are a few arithmetic operations with no
 * allocation. Callers on the request path keep the children they need (see
 * proxy-metrics.ts) rather than calling `labels()` per request. prom-client was not used
 * because it resolves labels on every call.
 */

/** Label values by label name. */
export type LabelValues = Readonly<Record<string, string>>;

/** The kinds of metric this registry renders, as the `# TYPE` line names them. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Separates label values in a child's cache key; a control character no label value carries in practice. */
const KEY_SEP = '\u0001';

/**
 * What every metric family shares: a name, help text, label names, and its children cached
 * by their label values.
 */
abstract class MetricFamily<C> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: MetricType;
  readonly #children = new Map<string, C>();
  readonly #collect: (() => void) | undefined;

  constructor(name: string, help: string, labelNames: readonly string[], collect?: () => void) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    const seen = new Set<string>();
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l)) throw new Error(`${name}: invalid label name ${JSON.stringify(l)}`);
      if (seen.has(l)) throw new Error(`${name}: duplicate label name ${JSON.stringify(l)}`);
      seen.add(l);
    }
    this.name = name;
    this.help = help;
    this.labelNames = Object.freeze([...labelNames]);
    this.#collect = collect;
  }

  /**
   * The child for these label values, created on first use and cached. Every label name of
   * the family must be given (extra keys are an error). This builds a key string, so hot
   * paths call it once per target and keep the child.
   */
  labels(values: LabelValues = {}): C {
    const key = this.#key(values);
    let child = this.#children.get(key);
    if (child === undefined) {
      const ordered = this.#ordered(values);
      child = this.newChild(renderLabelPairs(this.labelNames, ordered));
      this.#children.set(key, child);
    }
    return child;
  }

  /**
   * Drops the child for these label values, so that it is no longer rendered. A caller still
   * holding it keeps updating a detached child: remove only series nobody records to.
   */
  remove(values: LabelValues): boolean {
    return this.#children.delete(this.#key(values));
  }

  /** Drops every child (for info-style gauges whose labels change). Same caveat as `remove`. */
  reset(): void {
    this.#children.clear();
  }

  /** Appends this family's HELP, TYPE and sample lines to `out`, running its collector first. */
  renderTo(out: string[]): void {
    this.#collect?.();
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    for (const child of this.#children.values()) this.renderChild(child, out);
  }

  protected abstract newChild(labelPairs: string): C;
  protected abstract renderChild(child: C, out: string[]): void;

  #key(values: LabelValues): string {
    let key = '';
    const names = this.labelNames;
    for (let i = 0; i < names.length; i++) {
      if (i > 0) key += KEY_SEP;
      key += values[names[i] as string] ?? '';
    }
    return key;
  }

  #ordered(values: LabelValues): string[] {
    for (const k of Object.keys(values)) {
      if (!this.labelNames.includes(k)) throw new Error(`${this.name}: unknown label ${JSON.stringify(k)}`);
    }
    return this.labelNames.map((n) => {
      const v = values[n];
      if (typeof v !== 'string') throw new Error(`${this.name}: missing label ${JSON.stringify(n)}`);
      return v;
    });
  }
}

/** `name{labels} value` or `name value`. */
const sample = (name: string, labelPairs: string, value: number): string =>
  labelPairs === '' ? `${name} ${formatValue(value)}` : `${name}{${labelPairs}} ${formatValue(value)}`;

/** One series of a counter: a value that only goes up. */
export class CounterChild {
  /** The rendered `a="x",b="y"` of this series. */
  readonly labelPairs: string;
  #value = 0;

  constructor(labelPairs: string) {
    this.labelPairs = labelPairs;
  }

  /** Adds `n` (default 1); a negative `n` is a programming error and throws. */
  inc(n = 1): void {
    if (n < 0) throw new RangeError('a counter cannot decrease');
    this.#value += n;
  }

  /** The current value. */
  get value(): number {
    return this.#value;
  }
}

/** A counter family: cumulative counts such as requests served. */
export class Counter extends MetricFamily<CounterChild> {
  readonly type = 'counter';
  protected newChild(labelPairs: string): CounterChild {
    return new CounterChild(labelPairs);
  }
  protected renderChild(child: CounterChild, out: string[]): void {
    out.push(sample(this.name, child.labelPairs, child.value));
  }
}

/** One series of a gauge: a value that goes up and down. */
export class GaugeChild {
  /** The rendered `a="x",b="y"` of this series. */
  readonly labelPairs: string;
  #value = 0;

  constructor(labelPairs: string) {
    this.labelPairs = labelPairs;
  }

  /** Sets the value. */
  set(v: number): void {
    this.#value = v;
  }

  /** Adds `n` (default 1). */
  inc(n = 1): void {
    this.#value += n;
  }

  /** Subtracts `n` (default 1). */
  dec(n = 1): void {
    this.#value -= n;
  }

  /** The current value. */
  get value(): number {
    return this.#value;
  }
}

/** A gauge family: a current level such as active connections, or a computed value. */
export class Gauge extends MetricFamily<GaugeChild> {
  readonly type = 'gauge';
  protected newChild(labelPairs: string): GaugeChild {
    return new GaugeChild(labelPairs);
  }
  protected renderChild(child: GaugeChild, out: string[]): void {
    out.push(sample(this.name, child.labelPairs, child.value));
  }
}

/** One series of a histogram: counts per bucket, a sum and a count. */
export class HistogramChild {
  /** The rendered `a="x",b="y"` of this series. */
  readonly labelPairs: string;
  readonly #bounds: Float64Array;
  /** Non-cumulative counts per bucket; the last slot is the `+Inf` overflow. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(labelPairs: string, bounds: Float64Array) {
    this.labelPairs = labelPairs;
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  /** Records one observation. */
  observe(v: number): void {
    const bounds = this.#bounds;
    let i = 0;
    // Linear scan: with ~20 buckets and most values in the low ones it beats a binary search.
    while (i < bounds.length && v > (bounds[i] as number)) i++;
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.#sum += v;
    this.#count++;
  }

  /** Observations so far. */
  get count(): number {
    return this.#count;
  }

  /** Sum of the observations so far. */
  get sum(): number {
    return this.#sum;
  }

  /** Cumulative counts per bucket bound, ending with `+Inf` (equal to `count`). */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (const c of this.#counts) out.push((acc += c));
    return out;
  }
}

/** A histogram family: distributions such as request latency, with fixed bucket bounds. */
export class Histogram extends MetricFamily<HistogramChild> {
  readonly type = 'histogram';
  /** Upper bounds of the buckets, ascending, without `+Inf`. */
  readonly buckets: readonly number[];
  readonly #bounds: Float64Array;
  /** The `le="..."` pair of each bucket, rendered once. */
  readonly #le: readonly string[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    if (labelNames.includes('le')) throw new Error(`${name}: "le" is reserved in histograms`);
    if (buckets.length === 0) throw new Error(`${name}: a histogram needs buckets`);
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i] as number;
      if (!Number.isFinite(b)) throw new Error(`${name}: bucket bounds must be finite (+Inf is implicit)`);
      if (i > 0 && b <= (buckets[i - 1] as number)) throw new Error(`${name}: bucket bounds must increase`);
    }
    this.buckets = Object.freeze([...buckets]);
    this.#bounds = Float64Array.from(buckets);
    this.#le = [...buckets.map((b) => `le="${formatValue(b)}"`), 'le="+Inf"'];
  }

  protected newChild(labelPairs: string): HistogramChild {
    return new HistogramChild(labelPairs, this.#bounds);
  }

  protected renderChild(child: HistogramChild, out: string[]): void {
    const sep = child.labelPairs === '' ? '' : ',';
    const cumulative = child.cumulative();
    for (let i = 0; i < cumulative.length; i++) {
      out.push(`${this.name}_bucket{${child.labelPairs}${sep}${this.#le[i]}} ${formatValue(cumulative[i] as number)}`);
    }
    out.push(sample(`${this.name}_sum`, child.labelPairs, child.sum));
    out.push(sample(`${this.name}_count`, child.labelPairs, child.count));
  }
}

/** Any family this registry holds. */
export type Metric = Counter | Gauge | Histogram;

/**
 * The metrics of one process, rendered for `GET /metrics`. Families render in the order
 * they were registered, their series in the order they were first used. A family without
 * labels has its single series created at once, so that it renders as 0 before any update.
 */
export class MetricsRegistry {
  readonly #families = new Map<string, Metric>();

  /**
   * Registers a counter. `collect`, when given, runs before each render, for counters
   * computed from elsewhere (it should `inc` by the growth since the last call).
   */
  counter(name: string, help: string, labelNames: readonly string[] = [], collect?: (counter: Counter) => void): Counter {
    const counter: Counter = new Counter(name, help, labelNames, collect && (() => collect(counter)));
    return this.#add(counter);
  }

  /** Registers a gauge. `collect`, when given, runs before each render to `set` computed values. */
  gauge(name: string, help: string, labelNames: readonly string[] = [], collect?: (gauge: Gauge) => void): Gauge {
    const gauge: Gauge = new Gauge(name, help, labelNames, collect && (() => collect(gauge)));
    return this.#add(gauge);
  }

  /** Registers a histogram with these ascending, finite bucket bounds (`+Inf` is added). */
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  /** The family registered under `name`, if any. */
  get(name: string): Metric | undefined {
    return this.#families.get(name);
  }

  /** Every family in Prometheus text exposition format 0.0.4, ending with a newline. */
  render(): string {
    const out: string[] = [];
    for (const family of this.#families.values()) family.renderTo(out);
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }

  #add<M extends Metric>(family: M): M {
    if (this.#families.has(family.name)) throw new Error(`metric ${family.name} is already registered`);
    this.#families.set(family.name, family);
    if (family.labelNames.length === 0) family.labels();
    return family;
  }
}
