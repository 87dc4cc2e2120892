/**
 * Free sources first, the draft model otherwise (MultiSourceDrafter): which source drafts a block, that the model
 * follows what a free source drafted (its next block is what a model drafter started on the whole context would
 * propose), how the adaptive policy chooses among the sources, and the bench's policy modifiers that select them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NgramModel } from "../../src/backends/ngram/ngramModel.js";
import { benchVariants, parseBenchPolicy, splitList } from "../../src/bench/benchVariants.js";
import { type DraftCandidates, type DraftSource, PLAIN_DRAFTER } from "../../src/drafters/drafter.js";
import { ModelDrafter } from "../../src/drafters/modelDrafter.js";
import { MultiSourceDrafter } from "../../src/drafters/multiSourceDrafter.js";
import { PromptLookupDrafter } from "../../src/drafters/promptLookupDrafter.js";
import { SuffixDrafter } from "../../src/drafters/suffixDrafter.js";
import { AdaptiveMemory } from "../../src/policies/adaptiveMemory.js";
import { AdaptivePolicy } from "../../src/policies/adaptivePolicy.js";
import { NO_CONSTRAINTS } from "../../src/sampling/constraints.js";
import { GREEDY } from "../../src/sampling/samplingSettings.js";
import { PointDistribution } from "../../src/sampling/tokenDistribution.js";

const target = NgramModel.create({ seed: 5 });
const draft = target.blend(0.3, 9);
const tok = (text: string) => target.vocabulary.tokenize(text);
const V = target.vocabulary.size;
/** Lookup first (a match of at least `min` tokens), the model otherwise: what `--draft <model> --lookup-first` once was. */
const lookupFirst = (min = 3) => new MultiSourceDrafter([new PromptLookupDrafter(V, Math.max(min, 3), min)], new ModelDrafter(draft, GREEDY));

test("a block is drafted by lookup where the context's last n tokens occurred earlier, else by the model", async () => {
  const d = lookupFirst();
  // "xyz" occurred earlier, followed by "abc": lookup proposes a, b, c (then the x that followed "abc").
  await d.start(tok("xyzabcxyz"));
  assert.equal(d.nextSource(), "lookup");
  assert.deepEqual(
    (await d.nextRun(3)).map((t) => t.token),
    tok("abc"),
  );
  assert.equal(d.calls, 0, "lookup made no model call");
  // Two of the three accepted, then the bonus token "q": the context ends "...xyzabq", whose last 3 tokens
  // ("abq") never occurred before, so the model drafts the next block.
  d.commit(2, tok("q"));
  assert.equal(d.nextSource(), "model");
  const got = await d.nextRun(4);
  assert.ok(d.calls > 0);
  // The model caught up on the lookup block: it proposes what a drafter started on the whole context does.
  const fresh = new ModelDrafter(draft, GREEDY);
  await fresh.start(tok("xyzabcxyzabq"));
  assert.deepEqual(
    got.map((t) => t.token),
    (await fresh.nextRun(4)).map((t) => t.token),
  );
  d.commit(4, tok("."));
  assert.deepEqual(d.blocks, { lookup: 1, model: 1, suffix: 0 });
  d.dispose();
  fresh.dispose();
});

test("a lookup match shorter than the minimum leaves the block to the model", async () => {
  const d = lookupFirst();
  // Only "yz" (2 tokens) recurs at the end: below the minimum of 3.
  await d.start(tok("xyzabyz"));
  assert.equal(d.nextSource(), "model");
  assert.throws(() => new SuffixDrafter(10, { minMatch: 0 }), /whole number of tokens >= 1/);
  d.dispose();
});

test("an adaptive policy keeps what it learns per draft source", async () => {
  const memory = new AdaptiveMemory();
  const policy = new AdaptivePolicy({ memory });
  const d = lookupFirst();
  await d.start(tok("xyzabcxyz"));
  const block = await policy.draft(d, 4, { tokens: [], constraints: NO_CONSTRAINTS, shadow: false });
  assert.ok(block.tokens.length > 0);
  policy.observe({
    drafted: block.tokens.length,
    accepted: 1,
    qx: block.tokens.map(() => 1),
    verifiedTokens: 5,
    passTokens: 5,
    passPrefill: 0,
    draftMs: 0.01,
    verifyMs: 3,
    emitted: [block.tokens[0], 0],
  });
  // The lookup source's agreement saw the block; the model's saw nothing.
  assert.ok(memory.source("lookup").agreement.positionRate(0) !== memory.source("model").agreement.positionRate(0));
  d.dispose();
});

test("bench policy names: +head (cascade, adaptive), free sources (+suffix, +lookup), +nomodel, +rejection, and llama.cpp's speculative types", () => {
  const verispec = (name: string, head: boolean, free: string[], noModel: boolean, rejection = false) => ({
    policy: name,
    basePolicy: name.split("+")[0],
    head,
    eagle: false,
    free,
    noModel,
    rejection,
  });
  assert.deepEqual(parseBenchPolicy("chain+suffix+rejection"), verispec("chain+suffix+rejection", false, ["suffix"], false, true));
  assert.deepEqual(parseBenchPolicy("adaptive+head+lookup"), verispec("adaptive+head+lookup", true, ["lookup"], false));
  // Free sources in a fixed order (suffix first) whatever the order written.
  assert.deepEqual(parseBenchPolicy("chain+lookup+suffix+nomodel"), verispec("chain+lookup+suffix+nomodel", false, ["suffix", "lookup"], true));
  assert.deepEqual(parseBenchPolicy("target-only"), verispec("target-only", false, [], false));
  // Plain llamacpp-spec is draft-simple at the matrix's k; brackets name types and options, and alone run llama.cpp's defaults.
  assert.deepEqual(parseBenchPolicy("llamacpp-spec").spec, { types: ["draft-simple"], options: [], defaults: false });
  assert.deepEqual(parseBenchPolicy("llamacpp-spec[ngram-mod,draft-simple|spec-ngram-mod-n-match=12|poll=0]").spec, {
    types: ["ngram-mod", "draft-simple"],
    options: [
      ["spec-ngram-mod-n-match", "12"],
      ["poll", "0"],
    ],
    defaults: true,
  });
  for (const bad of [
    "chain+head",
    "target-only+lookup",
    "llamacpp-spec+lookup",
    "chain+lookup+lookup",
    "chain+fast",
    "nope",
    "llamacpp-spec[ngram-nope]",
    "llamacpp-spec[ngram-mod|poll]",
    "llamacpp-spec[ngram-mod|Poll=1]",
  ])
    assert.throws(() => parseBenchPolicy(bad), /unknown policy/, bad);
});

test("the bench matrix: a bracketed llama.cpp variant keeps its commas, runs at its defaults or at its k, and at every temperature", () => {
  const names = splitList("target-only,llamacpp-spec[ngram-mod,draft-simple]:8,llamacpp-spec[ngram-simple],adaptive+suffix");
  assert.deepEqual(names, ["target-only", "llamacpp-spec[ngram-mod,draft-simple]:8", "llamacpp-spec[ngram-simple]", "adaptive+suffix"]);
  const ids = benchVariants(names, [4], [0, 0.8]).map((v) => v.id);
  assert.deepEqual(ids, [
    "target-only T=0",
    "llamacpp-spec[ngram-mod,draft-simple] k=8 T=0",
    "llamacpp-spec[ngram-simple] T=0",
    "adaptive+suffix k=4 T=0",
    "target-only T=0.8",
    "llamacpp-spec[ngram-mod,draft-simple] k=8 T=0.8",
    "llamacpp-spec[ngram-simple] T=0.8",
    "adaptive+suffix k=4 T=0.8",
  ]);
});

test("a source that pays (lookup) does not make one that does not (the model) explore more often", async () => {
  const policy = new AdaptivePolicy({ memory: new AdaptiveMemory() });
  // Lookup has a match every other step; the model could draft any block.
  let lookupMatches = false;
  let used: DraftSource = "model";
  const drafter = {
    name: "two sources",
    calls: 0,
    capabilities: {
      ...PLAIN_DRAFTER,
      sourceChoice: {
        candidates: (n: number): DraftCandidates => ({
          free: lookupMatches ? [{ source: "lookup" as const, tokens: new Array(n).fill(1), confidence: new Array(n).fill(1) }] : [],
          model: true,
        }),
        useSource: (s: DraftSource) => {
          used = s;
        },
      },
    },
    start: async () => {},
    next: async () => ({ token: 1, q: new PointDistribution(1, 4), drawn: "argmax" as const }),
    commit: () => {},
    dispose: () => {},
  };
  let modelExplorations = 0;
  for (let step = 0; step < 200; step++) {
    lookupMatches = step % 2 === 1;
    used = "model";
    const block = await policy.draft(drafter, 8, { tokens: [], constraints: NO_CONSTRAINTS, shadow: false });
    const n = block.tokens.length;
    if (step >= 8 && used === "model" && n > 0) modelExplorations++;
    // The model's drafts cost 5 ms a token and are never accepted; lookup's are free and always accepted; a
    // pass costs 2 ms plus 0.5 ms a token.
    const model = used === "model";
    policy.observe({
      drafted: n,
      accepted: model ? 0 : n,
      qx: block.tokens.map(() => 1),
      verifiedTokens: n + 1,
      passTokens: n + 1,
      passPrefill: 0,
      draftMs: model ? 5 * n : 0.001 * n,
      verifyMs: 2 + 0.5 * n,
      emitted: new Array((model ? 0 : n) + 1).fill(1),
    });
  }
  // Explorations of the model come ever more rarely (gaps 8, 16, 32, 64, 128 steps): at most 5 in 200 steps.
  // When lookup's paying drafts reset one shared gap, the model explored about every 8 steps (~24 times).
  assert.ok(modelExplorations <= 5, `the model was explored ${modelExplorations} times`);
});
