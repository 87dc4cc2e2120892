/** Chooses the next token from the target's logits, per the sampling settings. */
import type { TokenId } from "../backends/languageModel.js";
import { type Constraints, NO_CONSTRAINTS } from "../generation/constraints.js";
import { argmax, sampleFrom, samplingDistribution } from "./distribution.js";
import { Random } from "./random.js";
import type { SamplingSettings } from "./samplingSettings.js";

export interface TokenChooser {
  /** The next token after `context`, from the target's logits there (constraints applied first). */
  choose(logits: Float32Array, context: readonly TokenId[]): TokenId;
}

class GreedyChooser implements TokenChooser {
  constructor(private readonly constraints: Constraints) {}

  choose(logits: Float32Array, context: readonly TokenId[]): TokenId {
    return argmax(this.constraints.apply(logits, context));
  }
}

class RandomChooser implements TokenChooser {
  constructor(
    private readonly settings: Extract<SamplingSettings, { mode: "sample" }>,
    private readonly rng: Random,
    private readonly constraints: Constraints,
  ) {}

  choose(logits: Float32Array, context: readonly TokenId[]): TokenId {
    return sampleFrom(samplingDistribution(this.constraints.apply(logits, context), this.settings), this.rng);
  }
}

export function tokenChooser(settings: SamplingSettings, constraints: Constraints = NO_CONSTRAINTS): TokenChooser {
  return settings.mode === "greedy" ? new GreedyChooser(constraints) : new RandomChooser(settings, new Random(settings.seed), constraints);
}
