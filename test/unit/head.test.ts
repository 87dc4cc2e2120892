/** The learned acceptance head: metrics by hand, training that learns, file checks. (collect/train-head end to end: test/headCli.test.ts.) */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { FEATURE_NAMES } from "../../src/policies/acceptanceScorer.js";
import { HeadFormatError, loadHead, validateHead } from "../../src/policies/head/headModel.js";
import { auc, calibrationReport } from "../../src/tools/headTraining/calibration.js";
import { predictAll, trainHead } from "../../src/tools/headTraining/headTraining.js";
import { Random } from "../../src/util/random.js";
import { fixtureDir } from "../helpers/fixtures.js";
import { handMadeHeadFile } from "../helpers/heads.js";

test("AUC, Brier and ECE by hand", () => {
  // Positives score 0.35 and 0.8, negatives 0.1 and 0.4: of the 4 positive-negative pairs, 3 are ordered right.
  assert.equal(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  const r = calibrationReport([0.2, 0.2, 0.9, 0.9], [0, 1, 1, 1], 10);
  // Brier: (0.04 + 0.64 + 0.01 + 0.01) / 4 = 0.175. ECE: bin [0.2, 0.3) observes 0.5 (gap 0.3), bin [0.9, 1] observes 1 (gap 0.1): 0.5 * 0.3 + 0.5 * 0.1 = 0.2.
  assert.ok(Math.abs(r.brier - 0.175) < 1e-12);
  assert.ok(Math.abs(r.ece - 0.2) < 1e-12);
  assert.equal(r.bins.length, 2);
});

test("training learns a rule the features carry, for both kinds", () => {
  // Accepted exactly when q > 0.5 and it is not the 4th position or later: a rule in two features.
  const rng = new Random(3);
  const q = FEATURE_NAMES.indexOf("q");
  const pos = FEATURE_NAMES.indexOf("position");
  const data = Array.from({ length: 600 }, () => {
    const features = FEATURE_NAMES.map(() => rng.next());
    features[pos] = rng.int(8);
    return { features, label: features[q] > 0.5 && features[pos] < 4 ? 1 : 0 };
  });
  const [train, held] = [data.slice(0, 400), data.slice(400)];
  for (const kind of ["logistic", "mlp"] as const) {
    const head = trainHead(train, { kind, epochs: 300 });
    validateHead(JSON.parse(JSON.stringify(head)));
    const score = auc(
      predictAll(
        head,
        held.map((e) => e.features),
      ),
      held.map((e) => e.label),
    );
    assert.ok(score > 0.9, `${kind} AUC ${score}`);
  }
});

test("malformed heads and heads for other features are refused with a clear error", () => {
  mkdirSync(fixtureDir, { recursive: true });
  const file = path.join(fixtureDir, "head.json");
  const write = (x: unknown) => writeFileSync(file, typeof x === "string" ? x : JSON.stringify(x));
  const refuse = (pattern: RegExp) =>
    assert.throws(
      () => loadHead(file),
      (e: Error) => e instanceof HeadFormatError && pattern.test(e.message),
    );
  write("{ nope");
  refuse(/is not JSON/);
  write({ format: "something-else" });
  refuse(/not a verispec acceptance head/);
  write({ ...handMadeHeadFile(), features: ["q", "entropy"] });
  refuse(/made for features \[q,entropy\]/);
  write({ ...handMadeHeadFile(), output: [1, 2] });
  refuse(/logistic head has no hidden layer and 9 output weights/);
  write({ ...handMadeHeadFile(), std: FEATURE_NAMES.map(() => 0) });
  refuse(/std > 0/);
  assert.throws(() => loadHead(path.join(fixtureDir, "none.json")), /head file not found/);
  write(handMadeHeadFile());
  assert.ok(Math.abs(loadHead(file).predictVector(FEATURE_NAMES.map((n) => (n === "q" ? 0.5 : 0))) - 0.5) < 1e-12, "sigmoid(6 * 0.5 - 3) = 0.5");
});
