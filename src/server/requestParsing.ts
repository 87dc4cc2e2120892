/**
 * OpenAI request bodies (completions and chat completions) checked and turned into one typed job. Every
 * field the server knows is checked for its type and range, and a bad one is a 400 that names it; fields it
 * does not know are ignored, as OpenAI's own server does with most; fields of features it lacks (tools, structured
 * output, logit bias, several choices, ...) are refused unless their value asks for none of it. Speculative settings travel in the
 * `verispec` extension object: { policy, k, draft }.
 */
import { randomInt } from "node:crypto";
import { describeRange, inSettingRange, SETTING_RANGES, type SettingRange } from "../generation/settingRanges.js";
import type { SamplingSettings } from "../sampling/samplingSettings.js";
import { samplingFrom } from "../sampling/samplingSettings.js";
import { ApiError, invalidField, unsupportedField } from "./apiErrors.js";

export interface ChatMessage {
  role: string;
  content: string;
}

/**
 * Which drafter a request uses: the server's draft model (with the free sources first, as the server is set up), a
 * drafter without a model (suffix, prompt-lookup, ngram: both), or none (the target alone).
 */
export type DraftChoice = "model" | "suffix" | "prompt-lookup" | "ngram" | "none";
export const DRAFT_CHOICES: readonly DraftChoice[] = ["model", "suffix", "prompt-lookup", "ngram", "none"];

export interface GenerationJob {
  kind: "completion" | "chat";
  model: string;
  /** The completion prompt as text or token ids; the chat's messages instead. */
  input: { prompt: string | number[] } | { messages: ChatMessage[] };
  /** Undefined: until the end of the slot's context. */
  maxTokens: number | undefined;
  sampling: SamplingSettings;
  /** Whether the request gave its seed (else the server drew one). */
  seeded: boolean;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  policy: string | undefined;
  k: number | undefined;
  draft: DraftChoice | undefined;
}

type Body = Record<string, unknown>;

function optional<T>(body: Body, key: string, check: (v: unknown) => v is T, what: string): T | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) throw invalidField(key, `'${key}' must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInteger = (v: unknown): v is number => Number.isInteger(v);
const isBoolean = (v: unknown): v is boolean => typeof v === "boolean";
const isString = (v: unknown): v is string => typeof v === "string";
const isObject = (v: unknown): v is Body => typeof v === "object" && v !== null && !Array.isArray(v);

/** A numeric field in its range of the table the command line shares (SETTING_RANGES); `param` names it in errors. */
function ranged(body: Body, key: string, range: SettingRange, param = key): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !inSettingRange(range, v)) throw invalidField(param, `'${param}' must be ${describeRange(range)}, got ${JSON.stringify(v)}`);
  return v;
}

function parseStop(body: Body): string[] {
  const v = body.stop;
  if (v === undefined || v === null) return [];
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list) || !list.every((s) => typeof s === "string" && s.length > 0) || list.length > 4)
    throw invalidField("stop", "'stop' must be a non-empty string or a list of up to 4 of them");
  return list;
}

function parseSampling(body: Body): SamplingSettings {
  const temperature = ranged(body, "temperature", SETTING_RANGES.temperature) ?? 1;
  const topP = ranged(body, "top_p", SETTING_RANGES.topP);
  const topK = ranged(body, "top_k", SETTING_RANGES.topK);
  const seed = ranged(body, "seed", SETTING_RANGES.seed) ?? randomInt(2 ** 31);
  return samplingFrom({ temperature, topP, topK, seed });
}

/** Fields of features this server does not have, and the values that ask for none of it (accepted). */
const UNSUPPORTED_FEATURES: Record<string, { feature: string; asksNothing(v: unknown): boolean }> = {
  tools: { feature: "tool calling", asksNothing: (v) => Array.isArray(v) && v.length === 0 },
  tool_choice: { feature: "tool calling", asksNothing: (v) => v === "none" },
  functions: { feature: "tool calling", asksNothing: (v) => Array.isArray(v) && v.length === 0 },
  function_call: { feature: "tool calling", asksNothing: (v) => v === "none" },
  response_format: { feature: 'structured output (only {"type": "text"})', asksNothing: (v) => isObject(v) && v.type === "text" },
  logit_bias: { feature: "logit bias", asksNothing: (v) => isObject(v) && Object.keys(v).length === 0 },
};

/** Fields that ask for something this server does not do are refused rather than silently ignored. */
function refuseUnsupported(body: Body): void {
  for (const [key, { feature, asksNothing }] of Object.entries(UNSUPPORTED_FEATURES)) {
    const v = body[key];
    if (v !== undefined && v !== null && !asksNothing(v)) throw unsupportedField(key, `'${key}' is not supported: this server has no ${feature}`);
  }
  const n = optional(body, "n", isInteger, "an integer");
  if (n !== undefined && n !== 1) throw invalidField("n", `only n = 1 is supported, got ${n}`);
  if (optional(body, "echo", isBoolean, "a boolean")) throw invalidField("echo", "'echo' is not supported");
  const logprobs = body.logprobs;
  if (logprobs !== undefined && logprobs !== null && logprobs !== false && logprobs !== 0) throw invalidField("logprobs", "'logprobs' is not supported");
  for (const key of ["presence_penalty", "frequency_penalty"]) {
    const v = optional(body, key, isNumber, "a number");
    if (v !== undefined && v !== 0) throw invalidField(key, `'${key}' is not supported (use 0)`);
  }
}

function parseExtension(body: Body): Pick<GenerationJob, "policy" | "k" | "draft"> {
  const ext = optional(body, "verispec", isObject, "an object");
  if (!ext) return { policy: undefined, k: undefined, draft: undefined };
  const policy = optional(ext, "policy", isString, "a string");
  const k = ranged(ext, "k", SETTING_RANGES.k, "verispec.k");
  const draft = optional(ext, "draft", (v): v is DraftChoice => DRAFT_CHOICES.includes(v as DraftChoice), `one of ${DRAFT_CHOICES.join(", ")}`);
  return { policy, k, draft };
}

function parseCommon(body: Body, kind: GenerationJob["kind"]): Omit<GenerationJob, "input"> {
  const model = optional(body, "model", isString, "a string");
  if (model === undefined) throw invalidField("model", "'model' is required");
  refuseUnsupported(body);
  const key = kind === "chat" && body.max_completion_tokens !== undefined ? "max_completion_tokens" : "max_tokens";
  const maxTokens = ranged(body, key, SETTING_RANGES.maxTokens);
  const stream = optional(body, "stream", isBoolean, "a boolean") ?? false;
  const streamOptions = optional(body, "stream_options", isObject, "an object");
  const includeUsage = (streamOptions && optional(streamOptions, "include_usage", isBoolean, "a boolean")) ?? false;
  const defaultMax = kind === "completion" ? 16 : undefined;
  return {
    kind,
    model,
    maxTokens: maxTokens ?? defaultMax,
    sampling: parseSampling(body),
    seeded: body.seed !== undefined && body.seed !== null,
    stop: parseStop(body),
    stream,
    includeUsage,
    ...parseExtension(body),
  };
}

function parsePrompt(body: Body): string | number[] {
  const p = body.prompt;
  if (typeof p === "string") return p;
  if (Array.isArray(p) && p.length > 0 && p.every((t) => Number.isInteger(t) && t >= 0)) return p as number[];
  if (Array.isArray(p) && p.length === 1 && typeof p[0] === "string") return p[0];
  if (Array.isArray(p) && p.length > 1 && p.every((s) => typeof s === "string")) throw invalidField("prompt", "only one prompt per request is supported");
  throw invalidField("prompt", "'prompt' must be a string, a list of one string, or a list of token ids");
}

function messageContent(m: Body, i: number): string {
  if (typeof m.content === "string") return m.content;
  if (Array.isArray(m.content) && m.content.every((part) => isObject(part) && part.type === "text" && typeof part.text === "string"))
    return m.content.map((part) => (part as { text: string }).text).join("");
  throw invalidField(`messages[${i}].content`, "message content must be a string or a list of text parts");
}

function parseMessages(body: Body): ChatMessage[] {
  const list = body.messages;
  if (!Array.isArray(list) || list.length === 0) throw invalidField("messages", "'messages' must be a non-empty list");
  return list.map((m, i) => {
    if (!isObject(m) || typeof m.role !== "string" || !["system", "user", "assistant", "developer", "tool"].includes(m.role))
      throw invalidField(`messages[${i}].role`, "each message needs a role: system, developer, user, assistant or tool");
    return { role: m.role, content: messageContent(m, i) };
  });
}

/** A completions or chat body as a job; throws ApiError(400) naming the first bad field. */
export function parseJob(body: unknown, kind: GenerationJob["kind"]): GenerationJob {
  if (!isObject(body)) throw new ApiError(400, "the request body must be a JSON object");
  const common = parseCommon(body, kind);
  return { ...common, input: kind === "chat" ? { messages: parseMessages(body) } : { prompt: parsePrompt(body) } };
}
