/** The OpenAI response objects: whole completions, stream chunks, usage, and llama-server-style timings. */
import { randomUUID } from "node:crypto";
import type { FinishReason, StepEvent } from "../generation/generationTypes.js";
import type { GenerationJob } from "./requestParsing.js";

export type ApiFinish = "stop" | "length";

/** OpenAI's finish reasons: an end token or a stop string is "stop"; the token budget or the context is "length". */
export function apiFinish(f: FinishReason): ApiFinish {
  return f === "eos" || f === "stop" ? "stop" : "length";
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Per-response timings and speculative statistics, as llama-server reports them (plus the mean accepted per block). */
export interface Timings {
  prompt_n: number;
  predicted_n: number;
  predicted_ms: number;
  predicted_per_second: number;
  draft_n: number;
  draft_n_accepted: number;
  /** Tokens emitted per step, bonus token included (1 for the target alone). */
  mean_accepted_per_block: number;
  /** Milliseconds the request waited for a slot (verispec's own; llama-server has none). */
  queue_ms: number;
}

/** Everything about one response that is fixed when it starts. */
export interface ResponseFrame {
  job: GenerationJob;
  id: string;
  created: number;
}

export function responseFrame(job: GenerationJob): ResponseFrame {
  const prefix = job.kind === "chat" ? "chatcmpl-" : "cmpl-";
  return { job, id: prefix + randomUUID().replaceAll("-", ""), created: Math.floor(Date.now() / 1000) };
}

export function usageOf(promptTokens: number, steps: readonly StepEvent[]): Usage {
  const completion = steps.reduce((n, s) => n + s.tokens.length, 0);
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
}

export function timingsOf(promptTokens: number, steps: readonly StepEvent[], ms: number, queueMs: number): Timings {
  const predicted = steps.reduce((n, s) => n + s.tokens.length, 0);
  const verified = steps.filter((s) => s.tokens.length > 0 || s.drafted > 0).length;
  return {
    prompt_n: promptTokens,
    predicted_n: predicted,
    predicted_ms: ms,
    predicted_per_second: ms > 0 ? (predicted * 1000) / ms : 0,
    draft_n: steps.reduce((n, s) => n + s.drafted, 0),
    draft_n_accepted: steps.reduce((n, s) => n + s.accepted, 0),
    mean_accepted_per_block: verified > 0 ? predicted / verified : 0,
    queue_ms: queueMs,
  };
}

/** A whole (non-streamed) response. */
export function completionBody(f: ResponseFrame, text: string, finish: ApiFinish, usage: Usage, timings: Timings): object {
  const choice =
    f.job.kind === "chat"
      ? { index: 0, message: { role: "assistant", content: text }, finish_reason: finish, logprobs: null }
      : { index: 0, text, finish_reason: finish, logprobs: null };
  const object = f.job.kind === "chat" ? "chat.completion" : "text_completion";
  return { id: f.id, object, created: f.created, model: f.job.model, choices: [choice], usage, timings };
}

/** A stream chunk: new text (the chat's first chunk also says the role), or the end with its reason. */
export function chunkBody(f: ResponseFrame, text: string, finish: ApiFinish | null, first = false): object {
  const base = { id: f.id, created: f.created, model: f.job.model };
  if (f.job.kind === "chat") {
    const delta = finish ? {} : first ? { role: "assistant", content: text } : { content: text };
    return { ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] };
  }
  return { ...base, object: "text_completion", choices: [{ index: 0, text, finish_reason: finish, logprobs: null }] };
}

/** The usage chunk sent after the last one when `stream_options.include_usage` is set. */
export function usageChunkBody(f: ResponseFrame, usage: Usage, timings: Timings): object {
  const object = f.job.kind === "chat" ? "chat.completion.chunk" : "text_completion";
  return { id: f.id, object, created: f.created, model: f.job.model, choices: [], usage, timings };
}
