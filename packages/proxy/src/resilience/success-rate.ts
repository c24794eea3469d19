/** One endpoint's requests over an outlier-detection interval. */
export interface SuccessSample {
  readonly key: string;
  readonly requests: number;
  readonly successes: number;
}

/** Success-rate ejection settings (OutlierDetection `successRate`). */
export interface SuccessRateSpec {
  readonly minimumHosts: number;
  readonly requestVolume: number;
  readonly stdevFactor: number;
}

/**
 * The endpoints whose success rate is a statistical outlier, as Envoy computes it: over
 * the endpoints with at least `requestVolume` requests in the interval (and only when
 * there are at least `minimumHosts` of them), the success rates in percent have a mean and
 * a (population) standard deviation; an endpoint below `mean - stdevFactor × stdev` is an
 * outlier. With rates {50, 100, 100, 100, 100}: mean 90, stdev 20, and at factor 1.9 the
 * threshold is 52, so the first endpoint is an outlier.
 */
export const successRateOutliers = (samples: readonly SuccessSample[], spec: SuccessRateSpec): { readonly outliers: string[]; readonly threshold?: number } => {
  const judged = samples.filter((s) => s.requests >= spec.requestVolume && s.requests > 0);
  if (judged.length === 0 || judged.length < spec.minimumHosts) return { outliers: [] };
  const rates = judged.map((s) => (100 * s.successes) / s.requests);
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const variance = rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length;
  const threshold = mean - spec.stdevFactor * Math.sqrt(variance);
  const outliers = judged.filter((_, i) => (rates[i] ?? 100) < threshold).map((s) => s.key);
  return { outliers, threshold };
};
