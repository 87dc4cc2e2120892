/**
 * Requests a server must refuse with a 4xx and survive: a body that is not JSON or not an object, fields of
 * the wrong type or out of range, and values the server does not know (a model, a policy, a drafter).
 * Top-level fields a server does not know are left out: OpenAI's server, and verispec's, ignore most of them.
 */

export interface MalformedRequest {
  /** What is wrong with it. */
  name: string;
  route: "/v1/completions" | "/v1/chat/completions";
  body: string;
}

type Change = Record<string, unknown>;

const CASES: [string, Change | string][] = [
  ["truncated JSON", '{"model": "m", "prompt": "a'],
  ["a list, not an object", '["model", "prompt"]'],
  ["max_tokens a string", { max_tokens: "many" }],
  ["prompt an object", { prompt: { text: "a" } }],
  ["temperature out of range", { temperature: 9 }],
  ["stream a string", { stream: "yes" }],
  ["n above 1", { n: 4 }],
  ["an unknown model", { model: "no-such-model" }],
  ["an unknown policy", { verispec: { policy: "no-such-policy" } }],
  ["an unknown drafter", { verispec: { draft: "telepathy" } }],
  ["chat without messages", { messages: [] }],
];

/** The j-th malformed request (the cases in turn), otherwise well formed for `model` with `prompt`. */
export function malformedRequest(j: number, model: string, prompt: string): MalformedRequest {
  const [name, change] = CASES[j % CASES.length];
  if (typeof change === "string") return { name, route: "/v1/completions", body: change };
  const chat = "messages" in change;
  const base = chat ? { model, max_tokens: 8 } : { model, prompt, max_tokens: 8 };
  return { name, route: chat ? "/v1/chat/completions" : "/v1/completions", body: JSON.stringify({ ...base, ...change }) };
}

/** How many kinds of malformed request there are: a run sends each once before any twice. */
export const MALFORMED_KINDS = CASES.length;

/** Whether position i of a run of `total` requests holds one of `count` malformed ones, spread evenly. */
export function isMalformedAt(i: number, count: number, total: number): boolean {
  return Math.floor(((i + 1) * count) / total) > Math.floor((i * count) / total);
}
