/**
 * The learned acceptance head: a tiny classifier from drafter features to
 * P(the target accepts the token). Two kinds: logistic regression and a
 * one-hidden-layer MLP (tanh), both on standardised features. Stored as a small
 * JSON file; loading checks the format and the feature set.
 */
import { readFileSync } from "node:fs";
import type { AcceptanceScorer, DraftFeatures } from "../acceptanceScorer.js";
import { FEATURE_NAMES, featureVector } from "../acceptanceScorer.js";

export const HEAD_FORMAT = "verispec-acceptance-head";
export const HEAD_VERSION = 1;

export interface HeadFile {
  format: typeof HEAD_FORMAT;
  version: number;
  kind: "logistic" | "mlp";
  features: string[];
  mean: number[];
  std: number[];
  /** Logistic: one row [w..., b]. MLP: hidden rows [w..., b], then the output row [v..., c]. */
  hidden: number[][];
  output: number[];
  /** Held-out metrics at training time, for the record. */
  metrics?: Record<string, number>;
}

export class HeadFormatError extends Error {}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Logit of the head for standardised inputs x (logistic: hidden is empty and output holds [w..., b]). */
export function headLogit(h: Pick<HeadFile, "hidden" | "output">, x: readonly number[]): number {
  const inputs = h.hidden.length ? h.hidden.map((row) => Math.tanh(row.reduce((a, w, i) => a + w * (i < x.length ? x[i] : 1), 0))) : x;
  return h.output.reduce((a, w, i) => a + w * (i < inputs.length ? inputs[i] : 1), 0);
}

export class AcceptanceHead implements AcceptanceScorer {
  readonly name: string;
  constructor(readonly file: HeadFile) {
    this.name = `head:${file.kind}`;
  }

  /** Standardised feature vector. */
  standardise(raw: readonly number[]): number[] {
    return raw.map((v, i) => (v - this.file.mean[i]) / this.file.std[i]);
  }

  predictVector(raw: readonly number[]): number {
    return sigmoid(headLogit(this.file, this.standardise(raw)));
  }

  predict(features: DraftFeatures): number {
    return this.predictVector(featureVector(features));
  }
}

function isNumbers(x: unknown, length?: number): x is number[] {
  return Array.isArray(x) && x.every((v) => typeof v === "number" && Number.isFinite(v)) && (length === undefined || x.length === length);
}

/** Checks a parsed head file; throws HeadFormatError saying what is wrong. */
export function validateHead(raw: unknown, source = "head"): HeadFile {
  const h = raw as Partial<HeadFile>;
  if (!h || typeof h !== "object" || h.format !== HEAD_FORMAT)
    throw new HeadFormatError(`${source} is not a verispec acceptance head (format must be "${HEAD_FORMAT}")`);
  if (h.version !== HEAD_VERSION) throw new HeadFormatError(`${source} has version ${h.version}; this verispec reads version ${HEAD_VERSION}`);
  const want = FEATURE_NAMES.join(",");
  if (!Array.isArray(h.features) || h.features.join(",") !== want)
    throw new HeadFormatError(`${source} was made for features [${h.features}], this verispec computes [${want}]`);
  const n = FEATURE_NAMES.length;
  if (!isNumbers(h.mean, n) || !isNumbers(h.std, n) || h.std.some((s) => s <= 0))
    throw new HeadFormatError(`${source}: mean and std must be ${n} finite numbers (std > 0)`);
  if (h.kind === "logistic") {
    if (!Array.isArray(h.hidden) || h.hidden.length !== 0 || !isNumbers(h.output, n + 1))
      throw new HeadFormatError(`${source}: a logistic head has no hidden layer and ${n + 1} output weights`);
  } else if (h.kind === "mlp") {
    const hidden = h.hidden;
    if (!Array.isArray(hidden) || hidden.length === 0 || !hidden.every((row) => isNumbers(row, n + 1)) || !isNumbers(h.output, hidden.length + 1)) {
      throw new HeadFormatError(
        `${source}: an MLP head needs hidden rows of ${n + 1} weights and ${Array.isArray(hidden) ? hidden.length + 1 : "hidden + 1"} output weights`,
      );
    }
  } else throw new HeadFormatError(`${source}: unknown head kind "${h.kind}" (logistic or mlp)`);
  return h as HeadFile;
}

/** Loads a head file; missing, non-JSON or malformed files give a clear error. */
export function loadHead(file: string): AcceptanceHead {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new HeadFormatError(`head file not found: ${file}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HeadFormatError(`${file} is not JSON`);
  }
  return new AcceptanceHead(validateHead(parsed, file));
}
