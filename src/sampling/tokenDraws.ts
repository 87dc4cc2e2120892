/**
 * The draws of a sampled generation, by its rule (SampledRule): coupled draws keyed by each token's position in
 * the sequence, or uniforms taken in turn from the request's random stream.
 */
import type { CoupledKey, RunDraws, TokenDraw } from "../model/rows.js";
import type { TokenId } from "../model/vocabulary.js";
import type { Random } from "../util/random.js";
import { coupledDraw, noiseSeed } from "./coupledDraw.js";
import { inverseCdf } from "./distribution.js";
import type { RandomSamplingSettings } from "./samplingSettings.js";

/** The key of the coupled draw at `position` (the index the drawn token takes in the sequence). */
export function coupledKey(settings: RandomSamplingSettings, position: number): CoupledKey {
  return { seed: noiseSeed(settings.seed), position };
}

/** The draw of the token at `position`: its coupled key, or the stream's next uniform. */
export function drawAt(settings: RandomSamplingSettings, position: number, rng: Random): TokenDraw {
  return settings.rule === "coupled" ? coupledKey(settings, position) : { uniform: rng.next() };
}

/** The draws of a run of `steps` tokens, the first at `position`. */
export function runDraws(settings: RandomSamplingSettings, position: number, steps: number, rng: Random): RunDraws {
  return settings.rule === "coupled" ? coupledKey(settings, position) : { uniforms: Float64Array.from({ length: steps }, () => rng.next()) };
}

/** The token a draw picks from a normalised distribution, in JavaScript: the backend's sampleToken rule. */
export function drawFrom(probs: ArrayLike<number>, draw: TokenDraw): TokenId {
  return "uniform" in draw ? inverseCdf(probs, draw.uniform) : coupledDraw(probs, draw.seed, draw.position);
}
