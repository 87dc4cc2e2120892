/** How tokens are chosen from the target's distribution. Greedy is its own mode, never a special value. */

export interface GreedySettings {
  readonly mode: "greedy";
}

export interface RandomSamplingSettings {
  readonly mode: "sample";
  /** Divides the logits; must be > 0. */
  readonly temperature: number;
  /** Keep only the k most likely tokens (0 = no limit). */
  readonly topK: number;
  /** Keep the smallest set of most likely tokens whose mass reaches p (1 = no limit). */
  readonly topP: number;
  /** Seed of the random generator, so a run can be repeated exactly. */
  readonly seed: number;
  /** How drafted tokens are judged and tokens drawn (see SampledRule). */
  readonly rule: SampledRule;
}

/**
 * How a sampled generation draws and judges tokens; both emit exactly the target's distribution.
 * - "coupled": every token is drawn with noise keyed by (seed, position) (coupledDraw.ts), the drafter's with the
 *   same noise, and a drafted token is accepted when it equals the target's draw. The text depends on the seed
 *   alone: the same for target-only and every policy, drafter, k and concurrency.
 * - "rejection": speculative sampling (accept with min(1, p/q), else draw from the residual max(0, p - q)) with
 *   one random stream per request. Accepts a model drafter's tokens a little more often; the text then depends on
 *   how the blocks fell.
 */
export type SampledRule = "coupled" | "rejection";

export const SAMPLED_RULES: readonly SampledRule[] = ["coupled", "rejection"];

/** The rule of settings made without one (the library's: settings always carry a seed). */
export const DEFAULT_SAMPLED_RULE: SampledRule = "coupled";

/**
 * What `generate` and `serve` are asked for: a rule, or "auto" (their default): the coupled rule where the caller
 * gave a seed, so the text is the seed's under any policy; rejection sampling otherwise, which accepts a model
 * drafter's tokens more often (HumanEval at T = 0.8, chain k 4: 2.90 tokens per block against 2.74 on the CPU,
 * bench/results/cpu/sampled-rules; the adaptive policy drafts less under the coupled rule on the GPU,
 * bench/results/h100).
 */
export type RulePreference = SampledRule | "auto";

export const RULE_PREFERENCES: readonly RulePreference[] = ["auto", ...SAMPLED_RULES];

/** The rule a preference gives for a request with or without a seed of the caller's. */
export function ruleFor(preference: RulePreference, seeded: boolean): SampledRule {
  if (preference !== "auto") return preference;
  return seeded ? "coupled" : "rejection";
}

export type SamplingSettings = GreedySettings | RandomSamplingSettings;

export const GREEDY: GreedySettings = { mode: "greedy" };

/** Default temperature when sampling. */
export const DEFAULT_TEMPERATURE = 1;
/** Default seed when sampling. */
export const DEFAULT_SEED = 0;

/** Sampling settings from loose options: temperature 0 means greedy; others are checked. */
export function samplingFrom(o: { temperature?: number; topK?: number; topP?: number; seed?: number; rule?: SampledRule }): SamplingSettings {
  const temperature = o.temperature ?? 0;
  if (!Number.isFinite(temperature) || temperature < 0) throw new RangeError(`temperature must be >= 0, got ${o.temperature}`);
  const topK = o.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) throw new RangeError(`top-k must be a whole number >= 0, got ${o.topK}`);
  const topP = o.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`top-p must be in (0, 1], got ${o.topP}`);
  const seed = o.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${o.seed}`);
  const rule = o.rule ?? DEFAULT_SAMPLED_RULE;
  if (!SAMPLED_RULES.includes(rule)) throw new RangeError(`the sampling rule must be one of ${SAMPLED_RULES.join(", ")}, got ${o.rule}`);
  if (temperature === 0) return GREEDY;
  return { mode: "sample", temperature, topK, topP, seed, rule };
}

/** The settings with another sampled rule (greedy settings as they are). */
export function withRule(s: SamplingSettings, rule: SampledRule): SamplingSettings {
  return s.mode === "sample" ? { ...s, rule } : s;
}
