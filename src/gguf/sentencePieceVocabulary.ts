/**
 * SentencePiece vocabularies (Gemma's) as llama.cpp's conversion writes them: tokenizer.ggml.model "llama", every
 * piece with a score and a token type, no space put before the text. Read from the tokenizer.json that Hugging Face
 * made of the SentencePiece model (a BPE over text whose spaces are "▁", with byte fallback) and its
 * tokenizer_config.json, since the packages ship no tokenizer.model.
 */
import { type BpeVocabulary, TOKEN_TYPE_BYTE, TOKEN_TYPE_CONTROL, TOKEN_TYPE_NORMAL, TOKEN_TYPE_UNKNOWN, TOKEN_TYPE_USER_DEFINED } from "./byteLevelBpe.js";
import { type HfTokenizerFiles, readHfTokenizer, specialText, type TokenizerJson } from "./hfTokenizer.js";

/** The score llama.cpp's conversion gives every added token. */
const ADDED_TOKEN_SCORE = -1000;

/** SentencePiece's byte pieces, which byte fallback spells unknown characters with. */
const BYTE_PIECE = /^<0x[0-9A-F]{2}>$/;

/** Added tokens llama.cpp's conversion makes control tokens though the files do not call them special (Gemma's among them). */
function looksSpecial(text: string): boolean {
  if (["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(text)) return true;
  return (text.startsWith("<|") && text.endsWith("|>")) || (text.startsWith("<unused") && text.endsWith(">"));
}

/**
 * Scores under which llama.cpp's SentencePiece merging (the adjacent pair whose joined text is the best-scored
 * token first, the leftmost of equals) takes tokenizer.json's merges in their order: a token scores minus the rank
 * of the first merge that makes it. Hugging Face's conversion ordered the merges by the SentencePiece scores, which
 * the files no longer carry. Tokens no merge makes (characters, bytes) score below every merge.
 */
function mergeScores(t: TokenizerJson, size: number): number[] {
  const unmerged = -t.model.merges.length;
  const scores = new Array<number>(size).fill(unmerged);
  t.model.merges.forEach((m, rank) => {
    const [left, right] = Array.isArray(m) ? m : m.split(" ");
    const id = t.model.vocab[left + right];
    if (id !== undefined && scores[id] === unmerged) scores[id] = -rank;
  });
  return scores;
}

/**
 * The whole vocabulary of a SentencePiece model: the pieces (bytes as byte tokens, the unknown piece as unknown),
 * then the added tokens as llama.cpp's conversion types them: special ones and special-looking ones as control
 * tokens, the rest as user-defined ones with "▁" written as the space it stands for (they are matched in raw
 * text); the config's BOS and EOS, whether BOS is added (the config's add_bos_token, else yes) and its template.
 */
export function sentencePieceFromHfFiles(f: Pick<HfTokenizerFiles, "tokenizer" | "config">): BpeVocabulary {
  const { json: t, config: c, tokens, id } = readHfTokenizer(f);
  if (!t.model.byte_fallback) throw new Error(`${f.tokenizer}: expected a SentencePiece BPE with byte fallback`);
  const scores = mergeScores(t, tokens.length);
  const tokenTypes = tokens.map((text): number =>
    BYTE_PIECE.test(text) ? TOKEN_TYPE_BYTE : text === t.model.unk_token ? TOKEN_TYPE_UNKNOWN : TOKEN_TYPE_NORMAL,
  );
  for (const a of t.added_tokens) {
    const control = a.special || looksSpecial(a.content);
    tokenTypes[a.id] = control ? TOKEN_TYPE_CONTROL : TOKEN_TYPE_USER_DEFINED;
    if (!control) tokens[a.id] = a.content.replaceAll("▁", " ");
    scores[a.id] = ADDED_TOKEN_SCORE;
  }
  return {
    tokens,
    tokenTypes,
    merges: [],
    scores,
    bos: id(specialText(c.bos_token)),
    eos: id(specialText(c.eos_token)),
    unknown: t.model.unk_token ? id(t.model.unk_token) : undefined,
    addBos: c.add_bos_token ?? true,
    chatTemplate: c.chat_template,
  };
}
