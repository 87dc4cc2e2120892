/**
 * The fixture of the chi-square sampling tests: a small n-gram target, a drafter
 * whose distribution differs clearly from it, and the exact distribution of the
 * first tokens of a continuation.
 */
import { CharacterVocabulary } from "../../src/backends/ngram/characterVocabulary.js";
import { NgramModel } from "../../src/backends/ngram/ngramModel.js";
import { samplingDistribution } from "../../src/sampling/distribution.js";
import type { RandomSamplingSettings } from "../../src/sampling/samplingSettings.js";

/** Seeded runs per chi-square test. */
export const RUNS = 20_000;
/** Tokens compared per run. */
export const LENGTH = 3;
/** Six letters and EOS; EOS is made all but impossible (bias -30), so every run yields 3 tokens and there are 6^3 = 216 outcomes. */
export const vocabulary = new CharacterVocabulary("abcdef");
export const target = NgramModel.create({ seed: 5, order: 3, sharpness: 1.5, eosBias: -30, vocabulary });
/** The drafter mixes in 60% of another model, so q differs clearly from p. */
export const draftModel = target.blend(0.6, 77);
export const PROMPT = "abc";

/** Exact probability of every LENGTH-token continuation under the target's sampling distribution (keys: ids joined by commas). */
export function exactDistribution(s: RandomSamplingSettings): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (prefix: number[], prob: number) => {
    if (prefix.length === LENGTH) {
      out.set(prefix.join(","), prob);
      return;
    }
    const p = samplingDistribution(target.logitsAfter([...vocabulary.tokenize(PROMPT), ...prefix]), s);
    for (let t = 0; t < p.length; t++) if (p[t] > 0) walk([...prefix, t], prob * p[t]);
  };
  walk([], 1);
  return out;
}
