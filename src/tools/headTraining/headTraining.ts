/**
 * Training the acceptance head in TypeScript: full-batch Adam on the
 * cross-entropy between the head's prediction and the label (0/1 for greedy,
 * the acceptance probability min(1, p/q) when sampling), with a little L2, on
 * standardised features. Deterministic from the seed.
 */

import { FEATURE_NAMES } from "../../policies/acceptanceScorer.js";
import { HEAD_FORMAT, HEAD_VERSION, type HeadFile, headLogit } from "../../policies/head/headModel.js";
import { Random } from "../../util/random.js";

export interface TrainingExample {
  features: number[];
  /** Target in [0, 1]. */
  label: number;
}

export interface TrainOptions {
  kind: "logistic" | "mlp";
  /** Hidden units of the MLP; 16 by default. */
  hidden?: number;
  /** Full-batch Adam steps; 400 by default. */
  epochs?: number;
  /** Adam learning rate; 0.03 by default. */
  learningRate?: number;
  /** L2 weight; 1e-4 by default. */
  l2?: number;
  seed?: number;
}

const DEFAULTS = { hidden: 16, epochs: 400, learningRate: 0.03, l2: 1e-4, seed: 1 };

function standardisation(data: readonly TrainingExample[]): { mean: number[]; std: number[] } {
  const n = FEATURE_NAMES.length;
  const mean = Array.from({ length: n }, (_, j) => data.reduce((a, e) => a + e.features[j], 0) / data.length);
  const std = Array.from({ length: n }, (_, j) => Math.sqrt(data.reduce((a, e) => a + (e.features[j] - mean[j]) ** 2, 0) / data.length) || 1);
  return { mean, std };
}

/** Parameters as one flat vector so one Adam loop serves both kinds. */
interface Layout {
  hidden: number;
  inputs: number;
}

function unpack(theta: Float64Array, l: Layout): Pick<HeadFile, "hidden" | "output"> {
  const row = l.inputs + 1;
  const hidden = Array.from({ length: l.hidden }, (_, h) => Array.from(theta.subarray(h * row, (h + 1) * row)));
  const output = Array.from(theta.subarray(l.hidden * row));
  return { hidden, output };
}

/** Gradient of the mean cross-entropy (plus L2) with respect to theta, by backpropagation. */
function gradient(theta: Float64Array, l: Layout, xs: number[][], ys: number[], l2: number): Float64Array {
  const g = new Float64Array(theta.length);
  const row = l.inputs + 1;
  const out0 = l.hidden * row;
  const width = l.hidden || l.inputs;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const a = l.hidden
      ? Array.from({ length: l.hidden }, (_, h) => Math.tanh(x.reduce((s, v, j) => s + theta[h * row + j] * v, theta[h * row + l.inputs])))
      : x;
    const z = a.reduce((s, v, j) => s + theta[out0 + j] * v, theta[out0 + width]);
    const err = (1 / (1 + Math.exp(-z)) - ys[i]) / xs.length;
    for (let j = 0; j < width; j++) g[out0 + j] += err * a[j];
    g[out0 + width] += err;
    for (let h = 0; h < l.hidden; h++) {
      const back = err * theta[out0 + h] * (1 - a[h] * a[h]);
      for (let j = 0; j < l.inputs; j++) g[h * row + j] += back * x[j];
      g[h * row + l.inputs] += back;
    }
  }
  for (let t = 0; t < theta.length; t++) g[t] += l2 * theta[t];
  return g;
}

/** Trains a head on the examples; returns the head file (without metrics). */
export function trainHead(data: readonly TrainingExample[], options: TrainOptions): HeadFile {
  if (data.length < 10) throw new RangeError(`training needs at least 10 examples, got ${data.length}`);
  const o = { ...DEFAULTS, ...options };
  const { mean, std } = standardisation(data);
  const xs = data.map((e) => e.features.map((v, j) => (v - mean[j]) / std[j]));
  const ys = data.map((e) => e.label);
  const l: Layout = { hidden: o.kind === "mlp" ? o.hidden : 0, inputs: FEATURE_NAMES.length };
  const rng = new Random(o.seed);
  const size = l.hidden * (l.inputs + 1) + (l.hidden || l.inputs) + 1;
  const theta = Float64Array.from({ length: size }, () => (rng.next() - 0.5) * (l.hidden ? 1 / Math.sqrt(l.inputs) : 0.01));
  const m = new Float64Array(size);
  const v = new Float64Array(size);
  for (let step = 1; step <= o.epochs; step++) {
    const g = gradient(theta, l, xs, ys, o.l2);
    for (let t = 0; t < size; t++) {
      m[t] = 0.9 * m[t] + 0.1 * g[t];
      v[t] = 0.999 * v[t] + 0.001 * g[t] * g[t];
      theta[t] -= (o.learningRate * (m[t] / (1 - 0.9 ** step))) / (Math.sqrt(v[t] / (1 - 0.999 ** step)) + 1e-8);
    }
  }
  return { format: HEAD_FORMAT, version: HEAD_VERSION, kind: o.kind, features: [...FEATURE_NAMES], mean, std, ...unpack(theta, l) };
}

/** Predictions of a head file on raw feature vectors. */
export function predictAll(head: HeadFile, features: readonly number[][]): number[] {
  return features.map(
    (f) =>
      1 /
      (1 +
        Math.exp(
          -headLogit(
            head,
            f.map((x, j) => (x - head.mean[j]) / head.std[j]),
          ),
        )),
  );
}
