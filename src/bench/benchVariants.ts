/**
 * The benchmark matrix from the command line: policies x draft lengths x temperatures.
 *
 * A verispec variant is a policy with modifiers: `+head` (cascade, adaptive: the loaded acceptance head),
 * `+eagle` (drafts with the EAGLE-3 head, bench --eagle, instead of the draft model), `+suffix` and `+lookup` (those
 * sources at no model cost draft a block before the draft model or the head, where they match), `+nomodel` (no draft
 * model: the free sources alone), `+rejection` (sampled by the rejection rule, not the coupled one).
 * `adaptive+suffix+lookup` is the CLI's default. llama.cpp's own speculative decoding is
 * `llamacpp-spec[<types>|<option>=<value>|...]`: its --spec-type list (`ngram-mod`, `ngram-mod,draft-simple`,
 * `draft-eagle3` with the head as its draft model, ...; draft-simple when none is given) and any of llama-speculative-simple's
 * long options without their dashes (`spec-ngram-mod-n-match=12`, `poll=0`). A name written "name:k" runs at that draft length only (for
 * llama.cpp, its types' length option: draft n-max, ngram-mod n-max, the ngram maps' m-gram size); plain names
 * take every --k, except llama.cpp written with brackets, which then runs at its own defaults.
 */
import type { FreeSourceName } from "../drafters/drafterRegistry.js";
import { POLICY_NAMES } from "../policies/policyRegistry.js";
import { type BenchVariant, LLAMACPP_EAGLE, LLAMACPP_SPEC, LLAMACPP_TARGET_ONLY, PEER_DRAFT, PEER_LOOKUP, type SpecConfig, TARGET_ONLY } from "./benchTypes.js";

/** Modifiers of verispec policy names: the acceptance head, and drafting with the EAGLE-3 head. */
export const WITH_HEAD = "+head";
export const WITH_EAGLE = "+eagle";
const MODIFIERS = ["head", "eagle", "suffix", "lookup", "nomodel", "rejection"] as const;
/** Policies that can use a head. */
const HEAD_POLICIES = ["cascade", "adaptive"];
/** Variants that are not verispec policies (and take no modifiers). */
const OTHER_VARIANTS = [TARGET_ONLY, PEER_DRAFT, PEER_LOOKUP, LLAMACPP_TARGET_ONLY, LLAMACPP_SPEC];

/** Every name --policies accepts, modifiers aside. */
export const BENCH_POLICY_NAMES = [TARGET_ONLY, ...POLICY_NAMES, ...OTHER_VARIANTS.slice(1)];

/** llama.cpp's speculative types that need no weights beyond the target's, and those that need a draft model. */
export const LLAMACPP_FREE_TYPES = ["ngram-simple", "ngram-map-k", "ngram-map-k4v", "ngram-mod", "ngram-cache"];
const LLAMACPP_DRAFT_TYPES = ["draft-simple", LLAMACPP_EAGLE];

type ParsedPolicy = Pick<BenchVariant, "policy" | "basePolicy" | "head" | "eagle" | "free" | "noModel" | "rejection" | "spec">;

function unknown(name: string): RangeError {
  return new RangeError(
    `unknown policy "${name}"; known policies: ${BENCH_POLICY_NAMES.join(", ")} (verispec policies also with +eagle, +suffix, +lookup, +nomodel, +rejection; ` +
      `cascade and adaptive with +head; llamacpp-spec[<types>|<option>=<value>])`,
  );
}

/** `llamacpp-spec[ngram-mod,draft-simple|ngram-mod-n-match=12]`: the types and options in the brackets. */
function parseSpec(name: string): ParsedPolicy {
  const m = name.match(/^llamacpp-spec(?:\[([^\]]*)\])?$/);
  if (!m) throw unknown(name);
  const [types = "", ...options] = (m[1] ?? "").split("|");
  const list = types ? types.split(",") : ["draft-simple"];
  if (list.some((t) => !LLAMACPP_FREE_TYPES.includes(t) && !LLAMACPP_DRAFT_TYPES.includes(t))) throw unknown(name);
  if (list.filter((t) => LLAMACPP_DRAFT_TYPES.includes(t)).length > 1)
    throw new RangeError(`"${name}": llama.cpp takes one draft model (-md), so ${LLAMACPP_DRAFT_TYPES.join(" and ")} cannot run together`);
  const flags: [string, string][] = options.map((o) => {
    const [key, value] = o.split("=");
    if (!/^[a-z0-9-]+$/.test(key ?? "") || value === undefined || value === "") throw unknown(name);
    return [key, value];
  });
  const spec: SpecConfig = { types: list, options: flags, defaults: m[1] !== undefined };
  return { policy: name, basePolicy: LLAMACPP_SPEC, head: false, eagle: false, free: [], noModel: false, rejection: false, spec };
}

/** Splits "adaptive+head+suffix" into the policy and its modifiers; refuses names and modifiers it does not know. */
export function parseBenchPolicy(name: string): ParsedPolicy {
  if (name.startsWith(LLAMACPP_SPEC)) return parseSpec(name);
  const [basePolicy, ...modifiers] = name.split("+");
  const none = { policy: name, basePolicy, head: false, eagle: false, free: [], noModel: false, rejection: false };
  if (OTHER_VARIANTS.includes(basePolicy)) {
    if (modifiers.length > 0) throw unknown(name);
    return none;
  }
  if (!POLICY_NAMES.includes(basePolicy)) throw unknown(name);
  if (modifiers.some((m) => !MODIFIERS.includes(m as (typeof MODIFIERS)[number])) || new Set(modifiers).size !== modifiers.length) throw unknown(name);
  const head = modifiers.includes("head");
  if (head && !HEAD_POLICIES.includes(basePolicy)) throw unknown(name);
  const eagle = modifiers.includes("eagle");
  const noModel = modifiers.includes("nomodel");
  if (eagle && noModel) throw new RangeError(`"${name}": ${WITH_EAGLE} drafts with the EAGLE-3 head and +nomodel without a drafter model; give one of them`);
  const free = (["suffix", "lookup"] as const).filter((s) => modifiers.includes(s)) as FreeSourceName[];
  return { ...none, head, eagle, free, noModel, rejection: modifiers.includes("rejection") };
}

/** Whether a variant drafts with the EAGLE-3 head: verispec's +eagle, or llama.cpp's draft-eagle3. */
export function usesEagleHead(v: Pick<BenchVariant, "eagle" | "spec">): boolean {
  return v.eagle || (v.spec?.types.includes(LLAMACPP_EAGLE) ?? false);
}

/** Variants that draft with a length k (the others run once per temperature). */
function usesK(p: ParsedPolicy): boolean {
  if (p.spec) return true;
  return p.policy !== TARGET_ONLY && p.policy !== PEER_LOOKUP && p.policy !== LLAMACPP_TARGET_ONLY;
}

/**
 * The variants, in run order; unknown policy names are refused with the list of known ones. A policy written
 * "name:k" runs at that draft length only (so "chain:2,chain:8,tree:4" mixes lengths); plain names take every --k.
 */
export function benchVariants(policies: readonly string[], ks: readonly number[], temperatures: readonly number[]): BenchVariant[] {
  const entries = policies.map((p) => {
    const colon = p.lastIndexOf(":");
    const [name, k] = colon > p.lastIndexOf("]") ? [p.slice(0, colon), p.slice(colon + 1)] : [p, undefined];
    const parsed = parseBenchPolicy(name);
    const lengths = k !== undefined ? [Number(k)] : parsed.spec?.defaults ? [0] : ks;
    return { parsed, ks: lengths };
  });
  if (entries.some((e) => e.ks.length === 0 || e.ks.some((k) => !Number.isInteger(k) || k < 0 || k > 64 || (k === 0 && !e.parsed.spec?.defaults))))
    throw new RangeError("draft lengths (--k, or policy:k) are whole numbers from 1 to 64");
  if (temperatures.length === 0 || temperatures.some((t) => !(t >= 0) || !Number.isFinite(t))) throw new RangeError("--temperatures takes numbers >= 0");
  const out: BenchVariant[] = [];
  for (const temperature of temperatures) {
    for (const { parsed, ks: lengths } of entries) {
      for (const k of usesK(parsed) ? lengths : [0]) out.push({ id: `${parsed.policy}${k ? ` k=${k}` : ""} T=${temperature}`, ...parsed, k, temperature });
    }
  }
  return out;
}

/** Parses a comma-separated list of numbers or names (commas inside brackets belong to the name). */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of value) {
    if (c === "[") depth++;
    if (c === "]") depth = Math.max(0, depth - 1);
    if (c === "," && depth === 0) {
      out.push(current);
      current = "";
    } else current += c;
  }
  out.push(current);
  return out.map((s) => s.trim()).filter(Boolean);
}
