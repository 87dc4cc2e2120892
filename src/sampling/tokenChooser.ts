/** Chooses the next token from the target's logits, per the sampling settings. */
import type { TokenId } from "../backends/languageModel.js";
import { argmax, sampleFrom, samplingDistribution } from "./distribution.js";
import { Random } from "./random.js";
import type { SamplingSettings } from "./samplingSettings.js";

export interface TokenChooser {
  choose(logits: Float32Array): TokenId;
}

class GreedyChooser implements TokenChooser {
  choose(logits: Float32Array): TokenId {
    return argmax(logits);
  }
}

class RandomChooser implements TokenChooser {
  constructor(
    private readonly settings: Extract<SamplingSettings, { mode: "sample" }>,
    private readonly rng: Random,
  ) {}

  choose(logits: Float32Array): TokenId {
    return sampleFrom(samplingDistribution(logits, this.settings), this.rng);
  }
}

export function tokenChooser(settings: SamplingSettings): TokenChooser {
  return settings.mode === "greedy" ? new GreedyChooser() : new RandomChooser(settings, new Random(settings.seed));
}
