/** How good a probability predictor is: AUC, Brier score, expected calibration error, and the reliability diagram's bins. */

export interface CalibrationBin {
  /** Bin range of predicted probability. */
  from: number;
  to: number;
  count: number;
  meanPredicted: number;
  /** Observed acceptance in the bin. */
  meanObserved: number;
}

export interface CalibrationReport {
  n: number;
  auc: number;
  brier: number;
  ece: number;
  bins: CalibrationBin[];
}

/** Number of reliability bins; 10 by default. */
export const CALIBRATION_BINS = 10;

/** Area under the ROC curve by the rank-sum (Mann-Whitney) statistic, ties counted half. */
export function auc(predicted: readonly number[], labels: readonly number[]): number {
  const idx = predicted.map((_, i) => i).sort((a, b) => predicted[a] - predicted[b]);
  const ranks = new Array<number>(predicted.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && predicted[idx[j + 1]] === predicted[idx[i]]) j++;
    for (let t = i; t <= j; t++) ranks[idx[t]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const positives = labels.filter((l) => l >= 0.5).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  const rankSum = labels.reduce((a, l, i) => a + (l >= 0.5 ? ranks[i] : 0), 0);
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function calibrationReport(predicted: readonly number[], labels: readonly number[], bins = CALIBRATION_BINS): CalibrationReport {
  const n = predicted.length;
  const brier = predicted.reduce((a, p, i) => a + (p - labels[i]) ** 2, 0) / n;
  const out: CalibrationBin[] = [];
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const from = b / bins;
    const to = (b + 1) / bins;
    const members = predicted.flatMap((p, i) => (p >= from && (p < to || (b === bins - 1 && p <= to)) ? [i] : []));
    if (members.length === 0) continue;
    const meanPredicted = members.reduce((a, i) => a + predicted[i], 0) / members.length;
    const meanObserved = members.reduce((a, i) => a + labels[i], 0) / members.length;
    ece += (members.length / n) * Math.abs(meanPredicted - meanObserved);
    out.push({ from, to, count: members.length, meanPredicted, meanObserved });
  }
  return { n, auc: auc(predicted, labels), brier, ece, bins: out };
}
