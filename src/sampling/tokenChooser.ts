/** Chooses the next token from the target's logits, per the sampling settings. */
import type { LogitRows } from "../model/rows.js";
import type { TokenId } from "../model/vocabulary.js";
import { Random } from "../util/random.js";
import { type Constraints, NO_CONSTRAINTS } from "./constraints.js";
import { samplingDistribution } from "./distribution.js";
import type { SamplingSettings } from "./samplingSettings.js";
import { constrainedArgmax, rowSamplingDistribution } from "./tokenDistribution.js";
import { drawAt, drawFrom } from "./tokenDraws.js";

export interface TokenChooser {
  /** The next token after `context`, from the target's logits there: row i of `rows` (constraints applied first). */
  choose(rows: LogitRows, i: number, context: readonly TokenId[]): TokenId;
}

class GreedyChooser implements TokenChooser {
  constructor(private readonly constraints: Constraints) {}

  choose(rows: LogitRows, i: number, context: readonly TokenId[]): TokenId {
    return constrainedArgmax(rows, i, context, this.constraints);
  }
}

class RandomChooser implements TokenChooser {
  constructor(
    private readonly settings: Extract<SamplingSettings, { mode: "sample" }>,
    private readonly rng: Random,
    private readonly constraints: Constraints,
  ) {}

  choose(rows: LogitRows, i: number, context: readonly TokenId[]): TokenId {
    // The token goes at index context.length of the sequence: a coupled draw's position.
    const draw = drawAt(this.settings, context.length, this.rng);
    // The backend draws where it can: the same rule, without the distribution crossing into JavaScript.
    const sampling = rows.capabilities.sampling;
    if (!this.constraints.active && sampling) return sampling.sampleToken(i, this.settings, draw);
    const p = this.constraints.active
      ? samplingDistribution(this.constraints.apply(rows.row(i), context), this.settings)
      : rowSamplingDistribution(rows, i, this.settings);
    return drawFrom(p, draw);
  }
}

export function tokenChooser(settings: SamplingSettings, constraints: Constraints = NO_CONSTRAINTS): TokenChooser {
  return settings.mode === "greedy" ? new GreedyChooser(constraints) : new RandomChooser(settings, new Random(settings.seed), constraints);
}
