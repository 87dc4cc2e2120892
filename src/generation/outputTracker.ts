/**
 * Turns emitted tokens into final text and decides when generation ends:
 * end-of-generation tokens, the token budget, stop strings, the context size.
 * Text is decoded incrementally as UTF-8; text that might be the start of a
 * stop string is held back until it is ruled out.
 */
import type { TokenId, Vocabulary } from "../model/vocabulary.js";
import type { FinishReason } from "./generationTypes.js";

export interface TrackedOutput {
  /** The tokens that count as output (cut at EOS or the token budget). */
  tokens: TokenId[];
  text: string;
  finish?: FinishReason;
}

export class OutputTracker {
  readonly tokens: TokenId[] = [];
  private readonly decoder = new TextDecoder("utf-8");
  private pending = "";
  private finished: FinishReason | undefined;

  constructor(
    private readonly vocabulary: Vocabulary,
    private readonly maxTokens: number,
    private readonly stop: readonly string[] = [],
  ) {
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError(`max tokens must be a positive integer, got ${maxTokens}`);
    if (stop.some((s) => s.length === 0)) throw new RangeError("stop strings must not be empty");
  }

  get finish(): FinishReason | undefined {
    return this.finished;
  }

  /** Adds the tokens of one step; returns those that count, the text now final, and why generation ended if it did. */
  push(tokens: readonly TokenId[]): TrackedOutput {
    const counted: TokenId[] = [];
    for (const token of tokens) {
      if (this.finished) break;
      if (this.vocabulary.isEndOfGeneration(token)) {
        this.finished = "eos";
        break;
      }
      counted.push(token);
      this.tokens.push(token);
      this.pending += this.decoder.decode(this.vocabulary.piece(token), { stream: true });
      if (this.cutAtStop()) this.finished = "stop";
      else if (this.tokens.length >= this.maxTokens) this.finished = "max-tokens";
    }
    return { tokens: counted, text: this.release(), finish: this.finished };
  }

  /**
   * One step's tokens, then an outside reason to end (abort, full context) if
   * the tokens did not already end generation: what a loop reports per step.
   */
  pushStep(tokens: readonly TokenId[], outside?: FinishReason): TrackedOutput {
    const out = this.push(tokens);
    if (out.finish || !outside) return out;
    return { tokens: out.tokens, text: out.text + this.end(outside).text, finish: outside };
  }

  /** Ends generation for a reason outside the tokens (abort, full context); returns the text held back. */
  end(reason: FinishReason): TrackedOutput {
    this.finished ??= reason;
    return { tokens: [], text: this.release(), finish: this.finished };
  }

  private cutAtStop(): boolean {
    let cut = -1;
    for (const s of this.stop) {
      const at = this.pending.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut < 0) return false;
    this.pending = this.pending.slice(0, cut);
    return true;
  }

  /** Text that can no longer become part of a stop string (all of it once finished). */
  private release(): string {
    if (this.finished) {
      const out = this.finished === "stop" ? this.pending : this.pending + this.decoder.decode();
      this.pending = "";
      return out;
    }
    let hold = 0;
    for (const s of this.stop) {
      for (let n = Math.min(s.length - 1, this.pending.length); n > hold; n--) {
        if (this.pending.endsWith(s.slice(0, n))) {
          hold = n;
          break;
        }
      }
    }
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return out;
  }
}
