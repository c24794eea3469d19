/**
 * Merges the Prometheus text of several workers of one sidecar into one exposition, as if
 * one process had counted everything: samples of the same series are added, except for
 * gauges that describe the sidecar rather than count work (config version, start time,
 * event-loop lag), where the largest value is kept.
 */

/** Gauge families whose values must not be summed across workers. */
const KEEP_MAX = /^(weft_proxy_config_info|process_start_time_seconds|nodejs_eventloop_lag.*)$/;

const familyOf = (sampleName: string): string => sampleName.replace(/_(bucket|sum|count|total)$/, '');

/** Merges expositions; HELP and TYPE lines come from the first worker that has them. */
export const mergeExpositions = (texts: readonly string[]): string => {
  const order: string[] = [];
  const meta = new Map<string, string[]>();
  const samples = new Map<string, Map<string, number>>();
  const sampleFamily = new Map<string, string>();
  for (const text of texts) {
    let family = '';
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('# ')) {
        const name = line.split(' ')[2] ?? '';
        family = name;
        if (!meta.has(name)) {
          meta.set(name, []);
          samples.set(name, new Map());
          order.push(name);
        }
        const lines = meta.get(name) ?? [];
        if (!lines.includes(line)) lines.push(line);
        continue;
      }
      const space = line.lastIndexOf(' ');
      const series = line.slice(0, space);
      const value = Number(line.slice(space + 1));
      const name = series.includes('{') ? series.slice(0, series.indexOf('{')) : series;
      const fam = name === family || name.startsWith(`${family}_`) ? family : samples.has(name) ? name : familyOf(name);
      if (!samples.has(fam)) {
        samples.set(fam, new Map());
        meta.set(fam, []);
        order.push(fam);
      }
      sampleFamily.set(series, fam);
      const bucket = samples.get(fam) ?? new Map<string, number>();
      const prev = bucket.get(series);
      if (prev === undefined) bucket.set(series, value);
      else bucket.set(series, KEEP_MAX.test(fam) ? Math.max(prev, value) : prev + value);
    }
  }
  let out = '';
  for (const fam of order) {
    for (const m of meta.get(fam) ?? []) out += `${m}\n`;
    for (const [series, value] of samples.get(fam) ?? []) out += `${series} ${String(value)}\n`;
  }
  return out;
};
