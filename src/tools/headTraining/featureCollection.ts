/**
 * Collecting training data for the acceptance head: generations with a chain
 * of k drafted tokens, recording each drafted token's features (computed before
 * any target work) and what the target made of it. Every chain token is
 * labelled, not only those up to the first rejection: the target's pass gives
 * p at every drafted position, conditioned on the drafted prefix.
 *   greedyAccept: x is the target's argmax there;
 *   acceptProb:   min(1, p(x)/q(x)) under the sampling settings (= greedyAccept when greedy);
 *   accepted:     whether this run actually accepted it (the coin flip when sampling).
 */

import { generateSpeculative } from "../../decoding/speculativeLoop.js";
import type { Drafter } from "../../drafters/drafter.js";
import { type DraftBlock, draftChain } from "../../drafts/draftBlock.js";
import type { LanguageModel } from "../../model/session.js";
import type { TokenId } from "../../model/vocabulary.js";
import { type DraftFeatures, featureVector } from "../../policies/acceptanceScorer.js";
import { draftFeatures, RunningAcceptance } from "../../policies/draftFeatures.js";
import type { BlockOutcome, DraftContext, DraftPolicy } from "../../policies/draftPolicy.js";
import { argmax, samplingDistribution } from "../../sampling/distribution.js";
import type { SamplingSettings } from "../../sampling/samplingSettings.js";

export interface CollectedExample {
  prompt: number;
  step: number;
  features: number[];
  accepted: number;
  greedyAccept: number;
  acceptProb: number;
}

/** A chain policy that remembers the features of the block it drafted last. */
class FeatureRecordingPolicy implements DraftPolicy {
  readonly name = "chain";
  readonly maxSequences = 1;
  features: DraftFeatures[] = [];
  private readonly running = new RunningAcceptance();

  constructor(private readonly k: number) {}

  async draft(drafter: Drafter, limit: number, context: DraftContext): Promise<DraftBlock> {
    this.features = [];
    return draftChain(drafter, Math.min(this.k, limit), { endsGeneration: context.endsGeneration }, (block, q, x) => {
      this.features.push(draftFeatures(block, q, x, this.running.rate));
      return undefined;
    });
  }

  observe(o: BlockOutcome): void {
    this.running.record(o.drafted, o.accepted);
  }
}

export interface CollectOptions {
  k: number;
  maxTokens: number;
  sampling: SamplingSettings;
}

/** Runs one generation per prompt and hands every labelled drafted token to `onExample`. */
export async function collectExamples(
  target: LanguageModel,
  makeDrafter: () => Drafter,
  prompts: readonly string[],
  o: CollectOptions,
  onExample: (e: CollectedExample) => void,
): Promise<void> {
  for (const [p, prompt] of prompts.entries()) {
    const policy = new FeatureRecordingPolicy(o.k);
    const drafter = makeDrafter();
    let step = 0;
    const inspect = (v: { block: DraftBlock; logitsAt(depth: number): Float32Array; accepted: number }) => {
      v.block.tokens.forEach((x: TokenId, d) => {
        const logits = v.logitsAt(d);
        const greedyAccept = argmax(logits) === x ? 1 : 0;
        const acceptProb = o.sampling.mode === "greedy" ? greedyAccept : Math.min(1, samplingDistribution(logits, o.sampling)[x] / v.block.q[d].prob(x));
        onExample({ prompt: p, step, features: featureVector(policy.features[d]), accepted: d < v.accepted ? 1 : 0, greedyAccept, acceptProb });
      });
      step++;
    };
    try {
      for await (const _ of generateSpeculative(target, drafter, prompt, { maxTokens: o.maxTokens, sampling: o.sampling, policy, inspect })) {
      }
    } finally {
      drafter.dispose();
    }
  }
}
