/** A drafter and a target must share a vocabulary: n-gram vocabularies and GGUF files that differ are refused, saying how. */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { CharacterVocabulary } from "../src/backends/ngram/characterVocabulary.js";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { writeRandomLlamaPair } from "../src/gguf/randomLlama.js";
import { checkCompatibleVocabularies, VocabularyMismatchError } from "../src/model/vocabularyCompatibility.js";
import { fixtureDir, fixturePair, TINY } from "./helpers/fixtures.js";
import { generationModel } from "./helpers/generationModel.js";

const model = generationModel();

test("drafter and target with different vocabularies are refused, saying what differs", async () => {
  const other = NgramModel.create({ seed: 1, vocabulary: new CharacterVocabulary("abc") });
  assert.throws(
    () => checkCompatibleVocabularies(model.vocabulary, other.vocabulary),
    (e: Error) => e instanceof VocabularyMismatchError && /4 tokens, the target's 32/.test(e.message),
  );
  const swapped = NgramModel.create({ seed: 1, vocabulary: new CharacterVocabulary("bacdefghijklmnopqrstuvwxyz .,;\n") });
  assert.throws(() => checkCompatibleVocabularies(model.vocabulary, swapped.vocabulary), /differs from the target's in 2 token texts \(0: "a" vs "b"/);
  // GGUF: same sizes, vocabularies from other seeds.
  fixturePair();
  const otherFile = path.join(fixtureDir, "other-vocab.gguf");
  writeRandomLlamaPair({ ...TINY, seed: TINY.seed + 100 }, otherFile);
  const [a, b] = [await LlamaCppModel.load(fixturePair().target, { threads: 1 }), await LlamaCppModel.load(otherFile, { threads: 1 })];
  assert.throws(() => checkCompatibleVocabularies(a.vocabulary, b.vocabulary), /token texts/);
  a.dispose();
  b.dispose();
});
