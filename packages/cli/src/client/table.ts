/**
 * A plain-text table as kubectl prints one: upper-case headers, columns left-aligned and
 * separated by three spaces, no borders, so that `awk` and `grep` work on it.
 */
export const renderTable = (headers: readonly string[], rows: readonly (readonly string[])[]): string => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
};

/**
 * Age as kubectl prints it: `45s`, `12m`, `5h`, `3d`; a minute and more under ten minutes
 * also shows seconds (`3m12s`), a day under two days hours (`1d5h`). `<unknown>` without a time.
 */
export const formatAge = (since: string | undefined, now: Date = new Date()): string => {
  if (since === undefined) return '<unknown>';
  const t = Date.parse(since);
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - t) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 2) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  return `${d}d`;
};
