/** One sample of the Prometheus text exposition format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

const parseValue = (s: string): number => {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  return Number(s);
};

/** Parses `{a="x",b="y \"q\""}` starting at `i` (the `{`); returns the labels and the index after `}`. */
const parseLabels = (line: string, i: number): { labels: Record<string, string>; end: number } | undefined => {
  const labels: Record<string, string> = {};
  i++;
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const m = NAME.exec(line.slice(i));
    if (!m) return undefined;
    const key = m[0];
    i += key.length;
    while (line[i] === ' ') i++;
    if (line[i] !== '=') return undefined;
    i++;
    while (line[i] === ' ') i++;
    if (line[i] !== '"') return undefined;
    i++;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) return undefined;
      if (c === '"') break;
      if (c === '\\') {
        const n = line[i + 1];
        value += n === 'n' ? '\n' : (n ?? '');
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    labels[key] = value;
  }
};

/**
 * Parses Prometheus text format (version 0.0.4), as every sidecar's admin `/metrics`
 * serves it. Comments and malformed lines are skipped; only samples are returned.
 */
export const parsePrometheusText = (text: string): PromSample[] => {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = NAME.exec(line);
    if (!m) continue;
    const name = m[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') {
      const parsed = parseLabels(line, i);
      if (parsed === undefined) continue;
      labels = parsed.labels;
      i = parsed.end;
    }
    const rest = line.slice(i).trim().split(/\s+/);
    const value = parseValue(rest[0] ?? '');
    if (rest[0] === undefined || rest[0] === '' || (Number.isNaN(value) && rest[0] !== 'NaN')) continue;
    out.push({ name, labels, value });
  }
  return out;
};

/**
 * The `q` quantile of a histogram from cumulative bucket counts (`le` ascending, `+Inf`
 * last), interpolating linearly inside the bucket, as Prometheus' `histogram_quantile`
 * does. Undefined when the histogram is empty. A quantile in the `+Inf` bucket is the
 * highest finite bound.
 */
export const histogramQuantile = (q: number, buckets: readonly { le: number; count: number }[]): number | undefined => {
  const last = buckets[buckets.length - 1];
  if (last === undefined || last.count <= 0) return undefined;
  const rank = q * last.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank && b.count > prevCount) {
      if (!Number.isFinite(b.le)) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / (b.count - prevCount);
    }
    prevLe = Number.isFinite(b.le) ? b.le : prevLe;
    prevCount = b.count;
  }
  return prevLe;
};
