/**
 * GPT-2 style byte-level BPE vocabularies: the byte-to-character mapping that
 * makes every byte a printable token character, and deterministic random
 * vocabularies for the project's test models.
 */
import { Random } from "../util/random.js";

/** The GPT-2 mapping from byte value to the character that stands for it in token texts. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + extra++));
  return out;
})();

/** Token type codes of llama.cpp's vocabulary (tokenizer.ggml.token_type). */
export const TOKEN_TYPE_NORMAL = 1;
export const TOKEN_TYPE_UNKNOWN = 2;
export const TOKEN_TYPE_CONTROL = 3;
export const TOKEN_TYPE_USER_DEFINED = 4;
export const TOKEN_TYPE_BYTE = 6;

/** The special end-of-text token of GPT-2 vocabularies, used as both BOS and EOS. */
export const END_OF_TEXT = "<|endoftext|>";

export interface BpeVocabulary {
  tokens: string[];
  tokenTypes: number[];
  merges: string[];
  bos: number;
  eos: number;
  /** Whether llama.cpp puts BOS in front of tokenized prompts. */
  addBos: boolean;
  /** llama.cpp's pre-tokenizer (tokenizer.ggml.pre): how text is split before merges; "gpt-2" by default. */
  pre?: string;
  /** The model's chat template (tokenizer.chat_template), a Jinja source. */
  chatTemplate?: string;
  /**
   * A SentencePiece vocabulary's piece scores (llama.cpp's "llama" tokenizer, which merges the best-scored joined
   * piece first): written in place of the merges, which are then empty, and with no space put before the text.
   */
  scores?: number[];
  /** The unknown token, where the model names one. */
  unknown?: number;
}

const WORD_BYTES = "abcdefghijklmnopqrstuvwxyz";

/**
 * A random but valid byte-level BPE vocabulary of `size` tokens: the 256 byte
 * tokens, random merges of lowercase word pieces (optionally space-prefixed),
 * and `<|endoftext|>` last.
 */
export function randomBpeVocabulary(size: number, seed: number): BpeVocabulary {
  if (size < 258) throw new Error("a byte-level vocabulary needs at least 258 tokens");
  const rng = new Random(seed);
  const tokens = [...BYTE_TO_CHAR];
  const known = new Set(tokens);
  const space = BYTE_TO_CHAR[32];
  const leftPieces = [...WORD_BYTES].flatMap((ch) => [ch, space + ch]);
  const rightPieces = [...WORD_BYTES];
  const merges: string[] = [];
  while (tokens.length < size - 1) {
    const left = leftPieces[rng.int(leftPieces.length)];
    const right = rightPieces[rng.int(rightPieces.length)];
    const merged = left + right;
    if (known.has(merged)) continue;
    known.add(merged);
    tokens.push(merged);
    merges.push(`${left} ${right}`);
    leftPieces.push(merged);
    if (!merged.startsWith(space)) rightPieces.push(merged);
  }
  tokens.push(END_OF_TEXT);
  const tokenTypes = tokens.map((_, i) => (i === size - 1 ? TOKEN_TYPE_CONTROL : TOKEN_TYPE_NORMAL));
  return { tokens, tokenTypes, merges, bos: size - 1, eos: size - 1, addBos: false };
}
