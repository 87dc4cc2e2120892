/**
 * A pure-TypeScript n-gram language model with exact, seeded probabilities:
 * the logits after a context are a fixed function of (seed, last n-1 tokens).
 * It implements the same backend roles as llama.cpp, so every algorithm can be
 * tested exactly and fast. `blend` makes a related model (a drafter whose
 * distribution differs from the target's by a controlled amount).
 */

import { type LogitRows, PLAIN_ROWS } from "../../model/rows.js";
import { type BatchToken, DEFAULT_BATCH_SIZE, type LanguageModel, type ModelSession, PLAIN_SESSION, type SessionOptions } from "../../model/session.js";
import type { TokenId } from "../../model/vocabulary.js";
import { Random } from "../../util/random.js";
import { validateBatch } from "../batchValidation.js";
import { CharacterVocabulary } from "./characterVocabulary.js";

export interface NgramOptions {
  seed: number;
  /** Tokens of context the next-token distribution depends on, plus one (2 = bigram); 3 by default. */
  order?: number;
  /** Standard deviation of the logits: larger is more peaked; 2.5 by default. */
  sharpness?: number;
  /** Logit added to EOS (negative makes sequences longer); -2 by default. */
  eosBias?: number;
  vocabulary?: CharacterVocabulary;
  /** Context size in tokens; 1024 by default. */
  contextSize?: number;
}

const DEFAULT_ORDER = 3;
const DEFAULT_SHARPNESS = 2.5;
const DEFAULT_EOS_BIAS = -2;
const DEFAULT_NGRAM_CONTEXT = 1024;

/** A standard normal value from a hash of the context and the candidate token. */
function hashedNormal(seed: number, context: readonly TokenId[], token: TokenId): number {
  let h = seed ^ 0x2545f491;
  for (const t of context) h = Math.imul(h ^ (t + 0x9e3779b9), 0x85ebca6b) ^ (h >>> 13);
  const rng = new Random(Math.imul(h ^ token, 0xc2b2ae35) ^ (token << 7));
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Logits as a function of the context; blended models add several of these. */
interface LogitSource {
  logits(context: readonly TokenId[], out: Float32Array): void;
}

class HashedLogits implements LogitSource {
  constructor(
    private readonly seed: number,
    private readonly order: number,
    private readonly sharpness: number,
    private readonly eosBias: number,
    private readonly eos: TokenId,
  ) {}

  logits(context: readonly TokenId[], out: Float32Array): void {
    const window = context.slice(Math.max(0, context.length - (this.order - 1)));
    for (let t = 0; t < out.length; t++) out[t] = this.sharpness * hashedNormal(this.seed, window, t) + (t === this.eos ? this.eosBias : 0);
  }
}

class BlendedLogits implements LogitSource {
  constructor(private readonly parts: readonly { source: LogitSource; weight: number }[]) {}

  logits(context: readonly TokenId[], out: Float32Array): void {
    const tmp = new Float32Array(out.length);
    out.fill(0);
    for (const { source, weight } of this.parts) {
      source.logits(context, tmp);
      for (let t = 0; t < out.length; t++) out[t] += weight * tmp[t];
    }
  }
}

export class NgramModel implements LanguageModel {
  readonly vocabulary: CharacterVocabulary;
  readonly trainContextSize: number;

  private constructor(
    readonly name: string,
    private readonly source: LogitSource,
    vocabulary: CharacterVocabulary,
    contextSize: number,
  ) {
    this.vocabulary = vocabulary;
    this.trainContextSize = contextSize;
  }

  static create(o: NgramOptions): NgramModel {
    const vocab = o.vocabulary ?? new CharacterVocabulary();
    const order = o.order ?? DEFAULT_ORDER;
    const source = new HashedLogits(o.seed, order, o.sharpness ?? DEFAULT_SHARPNESS, o.eosBias ?? DEFAULT_EOS_BIAS, vocab.eos);
    return new NgramModel(`ngram-${order}-seed${o.seed}`, source, vocab, o.contextSize ?? DEFAULT_NGRAM_CONTEXT);
  }

  /** A model whose logits are (1 - noise) * this model's + noise * another seeded n-gram's: a drafter that mostly agrees. */
  blend(noise: number, seed: number, order = DEFAULT_ORDER): NgramModel {
    const other = NgramModel.create({ seed, order, vocabulary: this.vocabulary });
    const source = new BlendedLogits([
      { source: this.source, weight: 1 - noise },
      { source: other.source, weight: noise },
    ]);
    return new NgramModel(`${this.name}+noise${noise}`, source, this.vocabulary, this.trainContextSize);
  }

  /** The exact logits after a context (the function every session evaluates). */
  logitsAfter(context: readonly TokenId[]): Float32Array {
    const out = new Float32Array(this.vocabulary.size);
    this.source.logits(context, out);
    return out;
  }

  async createSession(options: SessionOptions = {}): Promise<ModelSession> {
    return new NgramSession(this, options);
  }

  dispose(): void {}
}

class NgramSession implements ModelSession {
  /** Passes only; its exact logits depend on nothing but the sequence (CELL_ORDER claims no more than that). */
  readonly capabilities = PLAIN_SESSION;
  readonly contextSize: number;
  readonly maxSequences: number;
  readonly batchSize: number;
  readonly vocabulary: CharacterVocabulary;
  private sequences: TokenId[][];

  constructor(
    private readonly model: NgramModel,
    options: SessionOptions,
  ) {
    this.contextSize = options.contextSize ?? model.trainContextSize;
    this.maxSequences = options.maxSequences ?? 1;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.vocabulary = model.vocabulary;
    this.sequences = Array.from({ length: this.maxSequences }, () => []);
  }

  async evaluate(batch: readonly BatchToken[]): Promise<LogitRows> {
    validateBatch(batch, { ...this, vocabSize: this.vocabulary.size, sequenceLength: (s) => this.sequenceLength(s) });
    const rows: Float32Array[] = [];
    for (const t of batch) {
      for (const s of t.sequences) this.sequences[s].push(t.token);
      if (t.logits) rows.push(this.model.logitsAfter(this.sequences[t.sequences[0]]));
    }
    return { count: rows.length, vocabSize: this.vocabulary.size, row: (i) => rows[i], capabilities: PLAIN_ROWS };
  }

  sequenceLength(sequence: number): number {
    return this.sequences[sequence]?.length ?? 0;
  }

  removeRange(sequence: number, from: number, to?: number): void {
    const seq = this.sequences[sequence];
    if (to !== undefined && to < seq.length) throw new RangeError("removing from the middle of a sequence is not supported");
    seq.length = Math.min(seq.length, Math.max(0, from));
  }

  copySequence(source: number, destination: number): void {
    this.sequences[destination] = [...this.sequences[source]];
  }

  keepOnlySequence(sequence: number): void {
    this.sequences = this.sequences.map((s, i) => (i === sequence ? s : []));
  }

  clear(): void {
    this.sequences = this.sequences.map(() => []);
  }

  dispose(): void {}
}
