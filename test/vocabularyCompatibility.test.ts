/**
 * Which drafters may draft for a target (llama.cpp's rules): sizes within 128 tokens, the shared range's texts
 * equal from id 5 on, BOS, EOS and end-of-generation tokens the same; anything else refused in one line saying
 * what differs.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { CharacterVocabulary } from "../src/backends/ngram/characterVocabulary.js";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { padVocabulary } from "../src/gguf/padVocabulary.js";
import { writeRandomLlamaPair } from "../src/gguf/randomLlama.js";
import type { Vocabulary } from "../src/model/vocabulary.js";
import { checkCompatibleVocabularies, VocabularyMismatchError } from "../src/model/vocabularyCompatibility.js";
import { fixtureDir, fixturePair, TINY } from "./helpers/fixtures.js";
import { generationModel } from "./helpers/generationModel.js";

const model = generationModel();

/** A vocabulary of `size` tokens named t0, t1, ...; EOS 0 and BOS 1 unless told; `rename` and `eog` change some. */
function made(size: number, o: { bos?: number; eos?: number; rename?: Record<number, string>; eog?: number[] } = {}): Vocabulary {
  const eog = new Set(o.eog ?? [o.eos ?? 0]);
  return {
    size,
    bos: o.bos ?? 1,
    eos: o.eos ?? 0,
    isEndOfGeneration: (t) => eog.has(t),
    tokenize: () => [],
    piece: () => new Uint8Array(0),
    tokenText: (t) => o.rename?.[t] ?? `t${t}`,
  };
}

const refusal = (pattern: RegExp) => (e: Error) => e instanceof VocabularyMismatchError && !e.message.includes("\n") && pattern.test(e.message);

test("sizes may differ by up to 128 tokens either way, as llama.cpp allows; 129 is refused, saying so", () => {
  const target = made(1000);
  for (const size of [872, 999, 1001, 1128]) checkCompatibleVocabularies(target, made(size));
  assert.throws(() => checkCompatibleVocabularies(target, made(1129)), refusal(/has 1129 tokens, the target's 1000: they may differ by at most 128, not 129/));
  assert.throws(() => checkCompatibleVocabularies(target, made(871)), refusal(/not 129/));
});

test("the shared range's texts must match from id 5 on; the first five ids' texts are skipped as llama.cpp skips them", () => {
  const target = made(1000);
  // Renamed control tokens at ids 2 and 4 (`<unk>` against `<pad>`, say) pass: llama.cpp starts comparing at id 5.
  checkCompatibleVocabularies(target, made(1100, { rename: { 2: "<pad>", 4: "<s>" } }));
  // Id 5 on is compared: two renamed tokens, both listed with their texts.
  assert.throws(
    () => checkCompatibleVocabularies(target, made(1000, { rename: { 5: "x", 900: "y" } })),
    refusal(/differs from the target's in 2 token texts \(5: "t5" vs "x", 900: "t900" vs "y"\)/),
  );
  // Past the shared range texts are not compared: the drafter's extra tokens are never drafted.
  checkCompatibleVocabularies(target, made(1050, { rename: { 1010: "<pad_10>" } }));
});

test("BOS, EOS and the end-of-generation tokens must agree, even among the first five ids", () => {
  const target = made(1000, { eog: [0, 3] });
  assert.throws(() => checkCompatibleVocabularies(target, made(1000, { bos: 2, eog: [0, 3] })), refusal(/BOS token is 2, the target's 1/));
  assert.throws(() => checkCompatibleVocabularies(target, made(1000, { eos: 3, eog: [0, 3] })), refusal(/EOS token is 3, the target's 0/));
  // Token 3 ends generation for the target only: a difference in what a token does, though its text is skipped.
  assert.throws(
    () => checkCompatibleVocabularies(target, made(1000, { eog: [0] })),
    refusal(/end-of-generation tokens differ from the target's in 1 tokens \(3 "t3" ends generation for the target only\)/),
  );
});

test("n-gram vocabularies and GGUF files that differ are refused, saying what differs", async () => {
  const other = NgramModel.create({ seed: 1, vocabulary: new CharacterVocabulary("abc") });
  // 4 tokens against 32 is within 128, but EOS is each alphabet's last token: 3 against 31.
  assert.throws(() => checkCompatibleVocabularies(model.vocabulary, other.vocabulary), refusal(/EOS token is 3, the target's 31/));
  const swapped = NgramModel.create({ seed: 1, vocabulary: new CharacterVocabulary("abcdegfhijklmnopqrstuvwxyz .,;\n") });
  assert.throws(() => checkCompatibleVocabularies(model.vocabulary, swapped.vocabulary), refusal(/in 2 token texts \(5: "f" vs "g", 6: "g" vs "f"\)/));
  // GGUF: same sizes, vocabularies from other seeds (written next to the fixture pair).
  const { target } = fixturePair();
  const otherFile = path.join(fixtureDir, "other-vocab.gguf");
  writeRandomLlamaPair({ ...TINY, seed: TINY.seed + 100 }, otherFile);
  const [a, b] = [await LlamaCppModel.load(target, { threads: 1 }), await LlamaCppModel.load(otherFile, { threads: 1 })];
  assert.throws(() => checkCompatibleVocabularies(a.vocabulary, b.vocabulary), refusal(/token texts/));
  a.dispose();
  b.dispose();
});

test("a GGUF drafter padded with 128 tokens is accepted, with 129 refused; padding tokens end nothing", async () => {
  const [padded128, padded129] = [128, 129].map((n) => path.join(fixtureDir, `padded-${n}.gguf`));
  // TINY has 512 tokens: padded to 640 and 641.
  assert.equal(padVocabulary(fixturePair().draft, padded128, { count: 128 }), 640);
  assert.equal(padVocabulary(fixturePair().draft, padded129, { count: 129 }), 641);
  const target = await LlamaCppModel.load(fixturePair().target, { threads: 1 });
  const [d128, d129] = [await LlamaCppModel.load(padded128, { threads: 1 }), await LlamaCppModel.load(padded129, { threads: 1 })];
  assert.equal(d128.vocabulary.size, 640);
  assert.equal(d128.vocabulary.tokenText(639), "<pad_127>");
  checkCompatibleVocabularies(target.vocabulary, d128.vocabulary);
  // Either way round: a target with 128 more tokens than its drafter.
  checkCompatibleVocabularies(d128.vocabulary, target.vocabulary);
  assert.throws(() => checkCompatibleVocabularies(target.vocabulary, d129.vocabulary), refusal(/641 tokens, the target's 512/));
  for (const m of [target, d128, d129]) m.dispose();
});
