/**
 * The bench's EAGLE-3 variants without models: the +eagle modifier and llama.cpp's draft-eagle3 type as the parser
 * takes or refuses them (each refusal one line), what llama.cpp is given for draft-eagle3 (the head as its draft
 * model, the draft n-max as its length), and the summary's comparison of each side's best variant with the head.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { bestByTemperature } from "../../src/bench/benchSummary.js";
import type { VariantSummary } from "../../src/bench/benchTypes.js";
import { benchVariants, parseBenchPolicy, usesEagleHead } from "../../src/bench/benchVariants.js";
import { draftModelOptions, lengthOptions } from "../../src/bench/peers/llamaCppTools.js";

test("+eagle: accepted on every verispec policy, with free sources, the acceptance head and the rejection rule", () => {
  const chain = parseBenchPolicy("chain+eagle");
  assert.deepEqual(chain, { policy: "chain+eagle", basePolicy: "chain", head: false, eagle: true, free: [], noModel: false, rejection: false });
  const adaptive = parseBenchPolicy("adaptive+eagle+suffix+lookup+rejection");
  assert.deepEqual([adaptive.basePolicy, adaptive.eagle, adaptive.free, adaptive.rejection], ["adaptive", true, ["suffix", "lookup"], true]);
  assert.equal(parseBenchPolicy("cascade+head+eagle").head, true, "+head stays the acceptance head");
  for (const name of ["tree+eagle", "heuristic+eagle", "cascade+eagle+lookup"]) assert.ok(parseBenchPolicy(name).eagle, name);
  assert.ok(!parseBenchPolicy("chain+suffix").eagle);
  const ids = benchVariants(["chain+eagle:8", "tree+eagle:4", "adaptive+eagle"], [2], [0]).map((v) => v.id);
  assert.deepEqual(ids, ["chain+eagle k=8 T=0", "tree+eagle k=4 T=0", "adaptive+eagle k=2 T=0"]);
});

test("+eagle refused in one line: twice, with +nomodel, on variants that are not verispec policies", () => {
  const refused: [string, RegExp][] = [
    ["chain+eagle+eagle", /^unknown policy "chain\+eagle\+eagle"/],
    ["chain+eagle+nomodel", /^"chain\+eagle\+nomodel": \+eagle drafts with the EAGLE-3 head and \+nomodel without a drafter model; give one of them$/],
    ["target-only+eagle", /^unknown policy "target-only\+eagle"/],
    ["llamacpp-target-only+eagle", /^unknown policy/],
    ["eagle", /^unknown policy "eagle"/],
  ];
  for (const [name, message] of refused)
    assert.throws(
      () => parseBenchPolicy(name),
      (e: Error) => message.test(e.message) && !e.message.includes("\n"),
      name,
    );
});

test("llamacpp-spec[draft-eagle3]: the head as llama.cpp's draft model, the draft n-max as its length; never beside draft-simple", () => {
  const spec = parseBenchPolicy("llamacpp-spec[draft-eagle3]").spec!;
  assert.deepEqual(spec, { types: ["draft-eagle3"], options: [], defaults: true });
  assert.ok(usesEagleHead({ eagle: false, spec }) && usesEagleHead(parseBenchPolicy("chain+eagle")));
  assert.ok(!usesEagleHead(parseBenchPolicy("llamacpp-spec[draft-simple]")));
  assert.deepEqual(parseBenchPolicy("llamacpp-spec[ngram-mod,draft-eagle3]").spec?.types, ["ngram-mod", "draft-eagle3"]);
  const [v] = benchVariants(["llamacpp-spec[draft-eagle3]:8"], [4], [0]);
  assert.equal(v.id, "llamacpp-spec[draft-eagle3] k=8 T=0");
  assert.deepEqual(lengthOptions(spec, 8), ["--spec-draft-n-max", "8"]);
  const files = { binDir: "bin", target: "t.gguf", draft: "d.gguf", head: "h.gguf", gpuLayers: 0, threads: 2, contextSize: 512 };
  assert.deepEqual(draftModelOptions(files, spec), ["-md", "h.gguf", "-ngld", "0", "--spec-draft-threads", "2"]);
  assert.deepEqual(draftModelOptions(files, parseBenchPolicy("llamacpp-spec[draft-simple]").spec!).slice(0, 2), ["-md", "d.gguf"]);
  assert.deepEqual(draftModelOptions(files, parseBenchPolicy("llamacpp-spec[ngram-mod]").spec!), []);
  assert.throws(() => draftModelOptions({ ...files, head: undefined }, spec), /^Error: llamacpp-spec\[draft-eagle3\] needs an EAGLE-3 head \(--eagle\)$/);
  assert.throws(
    () => parseBenchPolicy("llamacpp-spec[draft-simple,draft-eagle3]"),
    /^RangeError: "llamacpp-spec\[draft-simple,draft-eagle3\]": llama.cpp takes one draft model \(-md\), so draft-simple and draft-eagle3 cannot run together$/,
  );
});

/** A variant's summary with the fields the best-of comparison reads. */
function summary(variant: string, policy: string, temperature: number, tokensPerSecond: number): VariantSummary {
  return { variant, policy, temperature, tokensPerSecond, copyRate: null } as VariantSummary;
}

test("summary: the best +eagle variant against the best llamacpp-spec[draft-eagle3] one per temperature, where both ran", () => {
  const variants = [
    summary("target-only T=0", "target-only", 0, 100),
    summary("chain+suffix k=8 T=0", "chain+suffix", 0, 400),
    summary("chain+eagle k=4 T=0", "chain+eagle", 0, 300),
    summary("tree+eagle k=4 T=0", "tree+eagle", 0, 330),
    summary("llamacpp-spec[draft-eagle3] k=4 T=0", "llamacpp-spec[draft-eagle3]", 0, 220),
    summary("llamacpp-spec[ngram-mod,draft-eagle3] k=8 T=0", "llamacpp-spec[ngram-mod,draft-eagle3]", 0, 275),
    summary("llamacpp-spec[ngram-mod] T=0", "llamacpp-spec[ngram-mod]", 0, 500),
    summary("chain+eagle k=4 T=0.8", "chain+eagle", 0.8, 200),
    summary("llamacpp-spec[ngram-mod] T=0.8", "llamacpp-spec[ngram-mod]", 0.8, 250),
  ];
  const [greedy, sampled] = bestByTemperature(variants);
  // Each side's overall best is as before: the eagle comparison is beside it.
  assert.equal(greedy.verispec?.variant, "chain+suffix k=8 T=0");
  assert.equal(greedy.llamacpp?.variant, "llamacpp-spec[ngram-mod] T=0");
  assert.deepEqual(greedy.eagle, {
    verispec: { variant: "tree+eagle k=4 T=0", tokensPerSecond: 330 },
    llamacpp: { variant: "llamacpp-spec[ngram-mod,draft-eagle3] k=8 T=0", tokensPerSecond: 275 },
    ratio: 1.2,
  });
  assert.equal(sampled.eagle, undefined, "no draft-eagle3 variant at T = 0.8");
  assert.ok(!("eagle" in sampled));
});
