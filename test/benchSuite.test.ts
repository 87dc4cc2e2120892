/**
 * `verispec bench` end to end on the fixture models: the CSV round-trips into the
 * numbers of the JSON summary, tokens/s is recomputed from the raw rows, the HTML
 * report renders every figure in headless Chromium with no console errors, bad
 * input is refused with a clear error that leaves earlier results alone, and
 * Ctrl-C writes what has finished.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { before, test } from "node:test";
import { chromium } from "playwright-core";
import { readBenchCsv } from "../src/bench/benchCsv.js";
import { summarizeRows } from "../src/bench/benchSummary.js";
import type { BenchSummary } from "../src/bench/benchTypes.js";
import { runCli } from "./helpers/cli.js";
import { fixtureDir, fixturePair, fixturePrompts } from "./helpers/fixtures.js";

const out = path.join(fixtureDir, "bench-out");
const promptFile = path.join(fixtureDir, "prompts.jsonl");
let models: { target: string; draft: string };

before(() => {
  models = fixturePair();
  mkdirSync(fixtureDir, { recursive: true });
  writeFileSync(
    promptFile,
    fixturePrompts(3)
      .map((prompt) => JSON.stringify({ prompt }))
      .join("\n"),
  );
});

const benchArgs = (extra: string[]) => ["bench", "--target", models.target, "--draft", models.draft, "--threads", "1", "--max-tokens", "12", ...extra];

test("bench writes CSV, JSON, figures and a report that agree with each other", async () => {
  const r = await runCli(
    benchArgs(["--prompts", promptFile, "--repeats", "2", "--policies", "target-only,chain,tree,adaptive,nlc-draft,nlc-lookup", "--k", "2,4", "--out", out]),
  );
  assert.equal(r.code, 0, r.stderr);
  for (const f of ["results.csv", "summary.json", "summary.svg", "summary.png", "report.html"]) assert.ok(existsSync(path.join(out, f)), f);
  const rows = readBenchCsv(path.join(out, "results.csv"));
  const summary = JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8")) as BenchSummary;
  // target-only, chain x2, tree x2, adaptive x2, nlc-draft x2, nlc-lookup: 10 variants x 3 prompts x 2 repeats.
  assert.equal(rows.length, 10 * 3 * 2);
  assert.equal(summary.variants.length, 10);
  assert.ok(summary.complete);
  const recomputed = summarizeRows(rows);
  for (const [i, v] of summary.variants.entries()) {
    const mine = rows.filter((row) => row.variant === v.variant);
    const tokens = mine.reduce((a, row) => a + row.tokens, 0);
    const seconds = mine.reduce((a, row) => a + row.seconds, 0);
    assert.equal(v.tokens, tokens, `${v.variant}: tokens`);
    assert.ok(Math.abs(v.tokensPerSecond - tokens / seconds) <= 1e-9 * v.tokensPerSecond, `${v.variant}: tokens/s from the raw rows`);
    assert.deepEqual(JSON.parse(JSON.stringify(recomputed[i])), v, `${v.variant}: the CSV gives the same summary`);
  }
  const baseline = summary.variants.find((v) => v.policy === "target-only")!;
  assert.equal(baseline.speedup, 1);
  const chain = summary.variants.find((v) => v.variant.startsWith("chain k=2"))!;
  assert.ok(chain.boundTokensPerBlock !== null && chain.boundTokensPerBlock >= 1 && chain.boundTokensPerBlock <= 3, "the chain bound lies in [1, k + 1]");
});

const CHROMIUM = "/usr/bin/chromium";
// Without Chromium the report's test is skipped with a notice, except under CI, where it must run (and fails).
const noChromium = existsSync(CHROMIUM) || process.env.CI ? false : `no Chromium at ${CHROMIUM}: apt-get install chromium`;

test("the HTML report renders every figure in headless Chromium with no console errors", { skip: noChromium }, async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (CI is set, so the report's test runs): apt-get install chromium`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`file://${path.join(out, "report.html")}`);
    const figure = await page.locator("#summary-figure svg").boundingBox();
    assert.ok(figure && figure.width > 400 && figure.height > 400, `figure box ${JSON.stringify(figure)}`);
    const titles = await page.locator("#summary-figure svg .role-title-text").allTextContents();
    assert.deepEqual(titles, [
      "Throughput (tokens/s)",
      "Speedup over target-only",
      "Mean accepted tokens per block",
      "Model calls per sequence",
      "Acceptance by draft position",
    ]);
    // Vega names each panel's group after its place in the grid (row r, column c); every panel must draw marks.
    const panels = ["0_concat_0", "0_concat_1", "1_concat_0", "1_concat_1", "2_concat_0"];
    for (const [i, panel] of panels.entries()) {
      const marks = await page.locator(`#summary-figure svg g.concat_${panel}_group g.role-mark path`).count();
      assert.ok(marks > 0, `panel "${titles[i]}" draws marks`);
    }
    assert.equal(await page.locator("table").first().locator("tbody tr").count(), 10);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("bad input gets a clear one-line error and earlier results are kept", async () => {
  const before = readFileSync(path.join(out, "results.csv"), "utf8");
  const empty = path.join(fixtureDir, "empty.jsonl");
  writeFileSync(empty, "\n\n");
  const broken = path.join(fixtureDir, "broken.jsonl");
  writeFileSync(broken, '{"prompt": "a"}\nnot json\n');
  const cases: [string[], RegExp][] = [
    [["--prompts", path.join(fixtureDir, "missing.jsonl")], /prompt file not found: .*missing\.jsonl/],
    [["--prompts", empty], /prompt file is empty: .*empty\.jsonl/],
    [["--prompts", broken], /broken\.jsonl:2: the line is not valid JSON/],
    [["--prompts", promptFile, "--policies", "chain,warp"], /unknown policy "warp"; known policies: target-only, chain/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(benchArgs([...args, "--out", out]));
    assert.equal(r.code, 1);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  assert.equal(readFileSync(path.join(out, "results.csv"), "utf8"), before);
});

test("Ctrl-C writes what has finished", async () => {
  const dir = path.join(fixtureDir, "bench-interrupted");
  let sent = false;
  const r = await runCli(benchArgs(["--prompts", promptFile, "--repeats", "50", "--policies", "target-only,chain", "--out", dir]), (text, child) => {
    if (!sent && text.includes("[3/")) {
      sent = true;
      child.kill("SIGINT");
    }
  });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(readFileSync(path.join(dir, "summary.json"), "utf8")) as BenchSummary;
  assert.equal(summary.complete, false);
  const rows = readBenchCsv(path.join(dir, "results.csv"));
  assert.ok(rows.length >= 3 && rows.length < 300, `${rows.length} rows`);
  assert.equal(
    summary.variants.reduce((a, v) => a + v.generations, 0),
    rows.length,
  );
  assert.match(readFileSync(path.join(dir, "report.html"), "utf8"), /interrupted: partial results/);
});
