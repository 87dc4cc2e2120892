/**
 * The post-pass hook (TargetReading.observeTarget): a drafter that reads the target's outputs sees, over a generation, the
 * row of every position from the prompt's last token to the token before the last emitted, each exactly once, and
 * (greedy) each row's argmax is the token that follows that position. So a feature-level drafter fed through it
 * sees what the target computed for the whole kept text, chains, trees (winning siblings) and concurrent requests
 * alike, and nothing of a rejected branch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { SpeculativeScheduler } from "../src/decoding/scheduler.js";
import { type Drafter, PLAIN_DRAFTER, type TargetOutputs } from "../src/drafters/drafter.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import type { LanguageModel } from "../src/model/session.js";
import { argmax } from "../src/sampling/distribution.js";
import { GREEDY } from "../src/sampling/samplingSettings.js";
import { useFixturePair } from "./helpers/fixtures.js";
import { POLICIES } from "./helpers/policies.js";
import { drain } from "./helpers/scheduler.js";

/** A model drafter that keeps, per position, the argmax of each target row it was handed. */
function observing(draft: LanguageModel): { drafter: Drafter; seen: Map<number, number[]> } {
  const inner = new ModelDrafter(draft, GREEDY);
  const seen = new Map<number, number[]>();
  const drafter: Drafter = {
    name: "observing",
    get calls() {
      return inner.calls;
    },
    start: (c) => inner.start(c),
    next: () => inner.next(),
    commit: (kept, appended) => inner.commit(kept, appended),
    dispose: () => inner.dispose(),
    capabilities: {
      ...PLAIN_DRAFTER,
      targetReading: {
        attach: () => {},
        observeTarget: (o: TargetOutputs) => {
          for (const [i, p] of o.positions.entries()) seen.set(p, [...(seen.get(p) ?? []), argmax(o.logits(i))]);
        },
      },
    },
  };
  return { drafter, seen };
}

async function check(target: LanguageModel, draft: LanguageModel, prompts: string[]) {
  const scheduler = new SpeculativeScheduler(target, { slots: 4, sequencesPerSlot: 7 });
  const names = ["chain", "tree", "adaptive", "cascade"];
  const runs = prompts.map((prompt, i) => ({ prompt, ...observing(draft), policy: POLICIES[names[i % names.length]](2 + (i % 5)) }));
  const results = await drain(
    runs.map((r) => scheduler.submit({ prompt: r.prompt, maxTokens: 40, policy: r.policy, drafter: r.drafter, releaseDrafter: true })),
  );
  for (const [i, r] of runs.entries()) {
    const text = [...target.vocabulary.tokenize(r.prompt), ...results[i].tokens];
    const first = text.length - results[i].tokens.length - 1;
    // Positions first .. text.length - 2: the last prompt token's row gave the first emitted token, and so on.
    const want = Array.from({ length: text.length - 1 - first }, (_, j) => first + j);
    assert.deepEqual(
      [...r.seen.keys()].sort((a, b) => a - b),
      want,
      `request ${i}: each kept position's row once`,
    );
    for (const p of want) assert.deepEqual(r.seen.get(p), [text[p + 1]], `request ${i}, position ${p}: the row's argmax is the next token`);
  }
  await scheduler.close();
}

test("n-gram: the target's rows of every kept position, once each, under chains, trees and 4 requests at once", async () => {
  const target = NgramModel.create({ seed: 3, eosBias: -30 });
  await check(target, target.blend(0.3, 8), ["the cat sat", "abc abc abc", "on the mat", "a b c d"]);
});

const pair = useFixturePair();
test("GGUF fixtures (llama.cpp): the same", async () => {
  await check(pair.target, pair.draft, ["x1 y2 z3", "alpha beta", "one two three", "q r s t"]);
});
