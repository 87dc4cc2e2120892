/** Converts a Hugging Face `tokenizers` byte-level BPE tokenizer.json into a GGUF vocabulary. */
import { readFileSync } from "node:fs";
import { type BpeVocabulary, TOKEN_TYPE_CONTROL, TOKEN_TYPE_NORMAL, TOKEN_TYPE_USER_DEFINED } from "./byteLevelBpe.js";

export interface TokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[]; unk_token?: string | null; byte_fallback?: boolean };
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

/** A tokenizer_config.json's fields a GGUF needs: special tokens by text, whether BOS is added, the chat template. */
export interface TokenizerConfig {
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  add_bos_token?: boolean;
  chat_template?: string;
}

/** A real model's tokenizer as the files ship it: tokenizer.json and tokenizer_config.json. */
export interface HfTokenizerFiles {
  tokenizer: string;
  config: string;
  /** llama.cpp's name for the model's pre-tokenizer ("llama-bpe", "qwen2", ...). */
  pre: string;
  /** The token used as BOS where the config names none (Qwen's `<|endoftext|>`, as llama.cpp's conversion does). */
  fallbackBos?: string;
}

export const specialText = (t: TokenizerConfig["bos_token"]) => (t === null || t === undefined ? undefined : typeof t === "string" ? t : t.content);

/** tokenizer.json and tokenizer_config.json as read, with every token (the model's, then the added ones) by id. */
export interface HfTokenizer {
  json: TokenizerJson;
  config: TokenizerConfig;
  tokens: string[];
  /** The id of a token's text; throws for a text that is no token. */
  id(text: string | undefined): number;
}

/** Reads a model's tokenizer files; their BPE model's tokens and the added tokens must fill the ids from 0. */
export function readHfTokenizer(f: Pick<HfTokenizerFiles, "tokenizer" | "config">): HfTokenizer {
  const json = JSON.parse(readFileSync(f.tokenizer, "utf8")) as TokenizerJson;
  const config = JSON.parse(readFileSync(f.config, "utf8")) as TokenizerConfig;
  if (json.model.type !== "BPE") throw new Error(`${f.tokenizer}: expected a BPE tokenizer, found ${json.model.type}`);
  const ids = new Map<string, number>(Object.entries(json.model.vocab));
  for (const a of json.added_tokens) ids.set(a.content, a.id);
  const tokens: string[] = new Array(ids.size);
  for (const [text, id] of ids) tokens[id] = text;
  if (tokens.some((x) => x === undefined)) throw new Error(`${f.tokenizer}: token ids are not contiguous`);
  const id = (text: string | undefined) => {
    const found = text === undefined ? undefined : ids.get(text);
    if (found === undefined) throw new Error(`${f.tokenizer}: no token ${text}`);
    return found;
  };
  return { json, config, tokens, id };
}

/**
 * The whole vocabulary of a byte-level BPE model (Llama 3, Qwen): the merges' tokens, then the added tokens,
 * special ones as control tokens and the rest as user-defined ones (matched in text as they are), the config's
 * BOS and EOS, whether BOS is added (the config's add_bos_token, else whether the config names a BOS) and its
 * chat template.
 */
export function vocabularyFromHfFiles(f: HfTokenizerFiles): BpeVocabulary {
  const { json: t, config: c, tokens, id } = readHfTokenizer(f);
  const added = new Map(t.added_tokens.map((a) => [a.id, a.special ? TOKEN_TYPE_CONTROL : TOKEN_TYPE_USER_DEFINED]));
  const bosText = specialText(c.bos_token);
  return {
    tokens,
    tokenTypes: tokens.map((_, i) => added.get(i) ?? TOKEN_TYPE_NORMAL),
    merges: t.model.merges.map((m) => (Array.isArray(m) ? m.join(" ") : m)),
    bos: id(bosText ?? f.fallbackBos),
    eos: id(specialText(c.eos_token)),
    addBos: c.add_bos_token ?? bosText !== undefined,
    pre: f.pre,
    chatTemplate: c.chat_template,
  };
}
