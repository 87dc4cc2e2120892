/** A character-level vocabulary for the n-gram backend: token i is the i-th character of an alphabet; the last token is EOS. */
import type { TokenId, Vocabulary } from "../../model/vocabulary.js";

/** The default alphabet: lowercase letters, space and a few punctuation marks (31 characters, so 32 tokens with EOS). */
export const DEFAULT_ALPHABET = "abcdefghijklmnopqrstuvwxyz .,;\n";

export class CharacterVocabulary implements Vocabulary {
  readonly size: number;
  readonly bos = undefined;
  readonly eos: TokenId;
  private readonly ids: Map<string, TokenId>;
  private readonly encoder = new TextEncoder();

  constructor(readonly alphabet: string = DEFAULT_ALPHABET) {
    const chars = [...alphabet];
    this.ids = new Map(chars.map((c, i) => [c, i]));
    if (this.ids.size !== chars.length) throw new Error("the alphabet repeats a character");
    this.size = chars.length + 1;
    this.eos = chars.length;
  }

  isEndOfGeneration(token: TokenId): boolean {
    return token === this.eos;
  }

  tokenize(text: string): TokenId[] {
    return [...text].map((c) => {
      const id = this.ids.get(c);
      if (id === undefined) throw new RangeError(`character ${JSON.stringify(c)} is not in the n-gram vocabulary`);
      return id;
    });
  }

  piece(token: TokenId): Uint8Array {
    return token === this.eos ? new Uint8Array(0) : this.encoder.encode(this.tokenText(token));
  }

  tokenText(token: TokenId): string {
    if (token === this.eos) return "<eos>";
    return [...this.alphabet][token];
  }
}
