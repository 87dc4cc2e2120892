/** A hand-made acceptance head for tests: logistic in q alone, P = sigmoid(6 q - 3) (0.05 at q = 0, 0.95 at q = 1). */
import { FEATURE_NAMES } from "../../src/policies/acceptanceScorer.js";
import { AcceptanceHead, HEAD_FORMAT, HEAD_VERSION, type HeadFile } from "../../src/policies/head/headModel.js";

export function handMadeHeadFile(): HeadFile {
  const n = FEATURE_NAMES.length;
  const output = new Array(n + 1).fill(0);
  output[FEATURE_NAMES.indexOf("q")] = 6;
  output[n] = -3;
  return {
    format: HEAD_FORMAT,
    version: HEAD_VERSION,
    kind: "logistic",
    features: [...FEATURE_NAMES],
    mean: new Array(n).fill(0),
    std: new Array(n).fill(1),
    hidden: [],
    output,
  };
}

export const handMadeHead = () => new AcceptanceHead(handMadeHeadFile());
