/**
 * A model's vocabulary: the token ids every other module speaks in, and how text becomes tokens and back
 * (special tokens, tokenizer, detokenizer). The ground of the model contract: it imports nothing.
 */

/** A token id in a model's vocabulary. */
export type TokenId = number;

/** A model's vocabulary: special tokens, tokenizer and detokenizer. */
export interface Vocabulary {
  readonly size: number;
  /** Beginning-of-sequence token, if the model has one. */
  readonly bos: TokenId | undefined;
  /** End-of-sequence token, if the model has one. */
  readonly eos: TokenId | undefined;
  /** Whether this token ends generation (EOS, end-of-turn, ...). */
  isEndOfGeneration(token: TokenId): boolean;
  /**
   * Tokens of a text; `addSpecial` adds BOS where the model asks for it; `parseSpecial` reads the text of
   * control tokens (`<|im_start|>`, say) as those tokens, as a rendered chat template needs.
   */
  tokenize(text: string, addSpecial?: boolean, parseSpecial?: boolean): TokenId[];
  /** The bytes a token stands for when detokenized (empty for control tokens). */
  piece(token: TokenId): Uint8Array;
  /** The token's text as stored in the vocabulary (used to compare vocabularies). */
  tokenText(token: TokenId): string;
}
