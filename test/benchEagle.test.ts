/**
 * `verispec bench` drafting with the shipped EAGLE-3 head on the embedded target, end to end: a tiny run (one
 * HumanEval prompt, 16 greedy tokens) where verispec's +eagle variants write the target alone's tokens and the head
 * drafted, the head recorded among the run's models, refusals in one line before any model loads, and, where
 * llama.cpp's programs or llama-server are built (each that is), llama.cpp's own draft-eagle3 with the same head file.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { readBenchCsv } from "../src/bench/benchCsv.js";
import type { BenchRow, BenchSummary } from "../src/bench/benchTypes.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";
import { packageRoot } from "../src/util/packageRoot.js";
import { runCli } from "./helpers/cli.js";
import { fixtureDir } from "./helpers/fixtures.js";

const PROMPTS = path.join(packageRoot(), "..", "shared", "bench", "humaneval.jsonl");
const TOOLS = path.join(packageRoot(), "native", ".llama-build", process.env.VERISPEC_LLAMA_BUILD ?? "cpu", "bin");
const has = (...programs: string[]) => programs.every((p) => existsSync(path.join(TOOLS, p)));
/** How llama.cpp's peers can run here: as programs, through llama-server, each where built. */
const PEERS = [...(has("llama-completion", "llama-speculative-simple") ? ["program"] : []), ...(has("llama-server") ? ["server"] : [])];

/** One bench run on the embedded pair: the first HumanEval prompt, 16 greedy tokens, once. */
async function bench(name: string, policies: string, extra: string[] = []): Promise<{ summary: BenchSummary; rows: BenchRow[] }> {
  const out = path.join(fixtureDir, name);
  const args = ["--prompts", PROMPTS, "--limit", "1", "--trim-prompts", "--max-tokens", "16", "--repeats", "1", "--threads", "1"];
  const r = await runCli(["bench", ...args, "--temperatures", "0", "--policies", policies, "--no-figures", "--out", out, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return { summary: JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8")), rows: readBenchCsv(path.join(out, "results.csv")) };
}

test("+eagle variants write the target alone's tokens, the head drafts, and the run records the head", async () => {
  const { summary, rows } = await bench("bench-eagle", "target-only,chain+eagle:4,adaptive+eagle+suffix+lookup:4");
  assert.equal(summary.models.head?.file, embeddedModelPaths().head);
  for (const id of ["chain+eagle k=4 T=0", "adaptive+eagle+suffix+lookup k=4 T=0"]) {
    const v = summary.variants.find((x) => x.variant === id);
    assert.deepEqual(v?.identicalToTargetOnly, { identical: 1, compared: 1 }, id);
  }
  const chain = rows.find((r) => r.variant === "chain+eagle k=4 T=0")!;
  assert.equal(chain.tokens, 16);
  assert.ok(chain.drafted > 0 && chain.accepted > 0, `drafted ${chain.drafted}, accepted ${chain.accepted}`);
});

test("refused in one line before any model loads: +eagle with a target of one's own and no --eagle, an --eagle that is no head", async () => {
  const args = ["bench", "--prompts", PROMPTS, "--limit", "1", "--policies", "target-only,chain+eagle:4", "--out", path.join(fixtureDir, "never")];
  const cases: [string[], RegExp][] = [
    [["--target", embeddedModelPaths().target], /need --eagle <head\.gguf> with a --target of your own/],
    [["--eagle", embeddedModelPaths().draft], /--eagle: .*verispec-draft\.gguf is not an EAGLE-3 head/],
    [["--eagle", path.join(fixtureDir, "missing.gguf")], /--eagle: no such file .*missing\.gguf/],
  ];
  for (const [extra, message] of cases) {
    const r = await runCli([...args, ...extra]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

const noTools = PEERS.length > 0 ? false : `llama.cpp's tools are not built in ${TOOLS}: npm run build:llama -- --backend cpu --tools --server`;

test("llamacpp-spec[draft-eagle3]: llama.cpp drafts with the same head, the summary compares the sides with it", { skip: noTools }, async () => {
  const policies = "target-only,chain+eagle:4,llamacpp-target-only,llamacpp-spec[draft-eagle3]:4";
  for (const peer of PEERS) {
    const { summary, rows } = await bench(`bench-eagle-${peer}`, policies, ["--llama-peer", peer]);
    const theirs = rows.find((r) => r.variant === "llamacpp-spec[draft-eagle3] k=4 T=0")!;
    assert.equal(theirs.tokens, 16, peer);
    assert.ok(theirs.drafted > 0 && theirs.accepted > 0, `${peer}: drafted ${theirs.drafted}, accepted ${theirs.accepted}`);
    const eagle = summary.best?.[0].eagle;
    assert.equal(eagle?.verispec.variant, "chain+eagle k=4 T=0", peer);
    assert.equal(eagle?.llamacpp.variant, "llamacpp-spec[draft-eagle3] k=4 T=0", peer);
    assert.ok(eagle.ratio > 0 && Number.isFinite(eagle.ratio), peer);
  }
});
