/** A llama.cpp model's vocabulary, read once into tables so lookups never cross into native code. */
import type { TokenId, Vocabulary } from "../../model/vocabulary.js";
import type { NativeBinding, NativeModel, NativeModelInfo } from "./native.js";

export class LlamaCppVocabulary implements Vocabulary {
  readonly size: number;
  readonly bos: TokenId | undefined;
  readonly eos: TokenId | undefined;
  private readonly texts: string[];
  private readonly pieces: Uint8Array[];
  private readonly eog: Uint8Array;

  constructor(
    private readonly native: NativeBinding,
    private readonly model: NativeModel,
    info: NativeModelInfo,
  ) {
    const v = native.vocabulary(model);
    this.size = info.vocabSize;
    this.bos = info.bos >= 0 ? info.bos : undefined;
    this.eos = info.eos >= 0 ? info.eos : undefined;
    this.texts = v.texts;
    this.pieces = v.pieces;
    this.eog = v.eog;
  }

  isEndOfGeneration(token: TokenId): boolean {
    return this.eog[token] === 1;
  }

  tokenize(text: string, addSpecial = false, parseSpecial = false): TokenId[] {
    return Array.from(this.native.tokenize(this.model, text, addSpecial, parseSpecial));
  }

  piece(token: TokenId): Uint8Array {
    return this.pieces[token];
  }

  tokenText(token: TokenId): string {
    return this.texts[token];
  }
}
