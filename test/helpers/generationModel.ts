/** The n-gram model of the generation tests (target-only runs, stopping, prompts, options, vocabularies): seed 21, EOS made rarer. */
import { NgramModel } from "../../src/backends/ngram/ngramModel.js";

export function generationModel(): NgramModel {
  return NgramModel.create({ seed: 21, eosBias: -8 });
}
