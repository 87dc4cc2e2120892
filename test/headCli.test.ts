/** The learned acceptance head end to end on the fixture models: collect, then train-head, then generate with the head. */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { FEATURE_NAMES } from "../src/policies/acceptanceScorer.js";
import { loadHead } from "../src/policies/head/headModel.js";
import { runCli } from "./helpers/cli.js";
import { fixtureDir, fixturePair, fixturePrompts } from "./helpers/fixtures.js";

test("collect, then train-head, end to end on the fixture models", async () => {
  const models = fixturePair();
  const prompts = path.join(fixtureDir, "head-prompts.txt");
  writeFileSync(prompts, fixturePrompts(10, 9).join("\n"));
  const data = path.join(fixtureDir, "collected.csv");
  const c = await runCli([
    "collect",
    "--target",
    models.target,
    "--draft",
    models.draft,
    "--prompts",
    prompts,
    "--out",
    data,
    "--k",
    "4",
    "--max-tokens",
    "24",
    "--threads",
    "1",
  ]);
  assert.equal(c.code, 0, c.stderr);
  const lines = readFileSync(data, "utf8").trim().split("\n");
  assert.equal(lines[0], ["prompt", "step", ...FEATURE_NAMES, "accepted", "greedyAccept", "acceptProb"].join(","));
  assert.ok(lines.length > 50);
  const headFile = path.join(fixtureDir, "trained-head.json");
  const t = await runCli(["train-head", "--data", data, "--out", headFile, "--kind", "logistic", "--epochs", "200"]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /held-out \(\d+ tokens\): head AUC/);
  loadHead(headFile);
  for (const f of ["calibration.json", "reliability.svg", "reliability.png"]) assert.ok(existsSync(path.join(fixtureDir, f)), f);
  const g = await runCli([
    "generate",
    "--target",
    models.target,
    "--draft",
    models.draft,
    "--threads",
    "1",
    "--policy",
    "adaptive",
    "--head",
    headFile,
    "--prompt",
    "the cat",
    "--max-tokens",
    "16",
  ]);
  assert.equal(g.code, 0, g.stderr);
});
