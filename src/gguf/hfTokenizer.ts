/** Converts a Hugging Face `tokenizers` byte-level BPE tokenizer.json into a GGUF vocabulary. */
import { readFileSync } from "node:fs";
import { type BpeVocabulary, TOKEN_TYPE_CONTROL, TOKEN_TYPE_NORMAL } from "./byteLevelBpe.js";

interface TokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[] };
  pre_tokenizer?: { type: string; use_regex?: boolean; add_prefix_space?: boolean };
  added_tokens: { id: number; content: string; special: boolean }[];
}

/** The vocabulary of a byte-level BPE tokenizer.json; `endOfText` names the token used as BOS and EOS. */
export function vocabularyFromTokenizerJson(path: string, endOfText = "<|endoftext|>", addBos = true): BpeVocabulary {
  const t = JSON.parse(readFileSync(path, "utf8")) as TokenizerJson;
  if (t.model.type !== "BPE") throw new Error(`${path}: expected a BPE tokenizer, found ${t.model.type}`);
  if (t.pre_tokenizer?.type !== "ByteLevel" || t.pre_tokenizer.add_prefix_space)
    throw new Error(`${path}: expected GPT-2 byte-level pre-tokenization without a prefix space`);
  const size = Object.keys(t.model.vocab).length;
  const tokens: string[] = new Array(size);
  for (const [text, id] of Object.entries(t.model.vocab)) tokens[id] = text;
  if (tokens.some((x) => x === undefined)) throw new Error(`${path}: token ids are not contiguous`);
  const special = new Set(t.added_tokens.filter((a) => a.special).map((a) => a.id));
  const eot = t.model.vocab[endOfText];
  if (eot === undefined) throw new Error(`${path}: no ${endOfText} token`);
  return {
    tokens,
    tokenTypes: tokens.map((_, id) => (special.has(id) ? TOKEN_TYPE_CONTROL : TOKEN_TYPE_NORMAL)),
    merges: t.model.merges.map((m) => (Array.isArray(m) ? m.join(" ") : m)),
    bos: eot,
    eos: eot,
    addBos,
  };
}
