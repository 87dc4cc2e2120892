/** Prompt handling shared by every generation loop: tokenising, context checks, prefill. */
import type { LogitRows } from "../model/rows.js";
import type { ModelSession } from "../model/session.js";
import type { TokenId, Vocabulary } from "../model/vocabulary.js";
import type { FinishReason } from "./generationTypes.js";

/** Raised when a prompt cannot be generated from (empty, or longer than the context). */
export class PromptError extends Error {}

/** Prompt tokens from text or tokens; BOS is added when the model has one and the text does not start with it. */
export function promptTokens(vocabulary: Vocabulary, prompt: string | readonly TokenId[]): TokenId[] {
  const tokens = typeof prompt === "string" ? vocabulary.tokenize(prompt, true) : [...prompt];
  if (tokens.length === 0) {
    if (vocabulary.bos === undefined) throw new PromptError("the prompt is empty and the model has no BOS token to start from");
    tokens.push(vocabulary.bos);
  }
  return tokens;
}

/** Throws when the prompt plus `headroom` positions does not fit the session's context. */
export function checkPromptFits(tokens: readonly TokenId[], session: ModelSession, headroom: number): void {
  if (tokens.length + headroom > session.contextSize) {
    throw new PromptError(`the prompt has ${tokens.length} tokens but the context holds ${session.contextSize} (with room for ${headroom} more needed)`);
  }
}

/** Cells a generation's context holds beyond its prompt and tokens: a last block of drafts and a tree's alternatives. */
export const CONTEXT_HEADROOM = 128;
const CONTEXT_ROUNDING = 256;

/**
 * A context just large enough for a prompt of `promptLength` tokens and `maxTokens` more (and CONTEXT_HEADROOM),
 * rounded up to 256, at most `limit`. A context costs llama.cpp in proportion to its size to create: on this
 * CPU about 200 ms for 4,096 tokens against 15-30 ms for 256-512, most of a short generation's time.
 */
export function contextFor(promptLength: number, maxTokens: number, limit: number): number {
  return Math.min(limit, Math.ceil((promptLength + maxTokens + CONTEXT_HEADROOM) / CONTEXT_ROUNDING) * CONTEXT_ROUNDING);
}

/**
 * Evaluates the tokens in batches of the session's batch size, continuing the
 * sequence's cache, and returns the last batch's rows, whose one row is the logits
 * after the last token (undefined when `wantLogits` is false). The passes are a
 * prompt's prefill (EvaluateOptions): every way of generating prefills all of a
 * prompt but its last token this way, and the first step's pass carries that token.
 */
export async function prefill(session: ModelSession, tokens: readonly TokenId[], sequence = 0, wantLogits = true): Promise<LogitRows | undefined> {
  let start = session.sequenceLength(sequence);
  let last: LogitRows | undefined;
  for (let i = 0; i < tokens.length; i += session.batchSize) {
    const chunk = tokens.slice(i, i + session.batchSize);
    const isLast = i + session.batchSize >= tokens.length;
    const batch = chunk.map((token, j) => ({ token, position: start + j, sequences: [sequence], logits: wantLogits && isLast && j === chunk.length - 1 }));
    const rows = await session.evaluate(batch, { prefill: true });
    if (rows.count > 0) last = rows;
    start += chunk.length;
  }
  return last;
}

/** Why generation must end regardless of its tokens: an abort, or no room left for `needed` more positions. */
export function outsideFinish(signal: AbortSignal | undefined, needed: number, contextSize: number): FinishReason | undefined {
  if (signal?.aborted) return "aborted";
  if (needed >= contextSize) return "context-full";
  return undefined;
}
