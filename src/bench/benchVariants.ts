/** The benchmark matrix from the command line: policies x draft lengths x temperatures. */
import { POLICY_NAMES } from "../verifier/policyRegistry.js";
import { type BenchVariant, LLAMACPP_SPEC, LLAMACPP_TARGET_ONLY, PEER_DRAFT, PEER_LOOKUP, TARGET_ONLY } from "./benchTypes.js";

/** Suffix of policy names that run with the loaded acceptance head (--head). */
export const WITH_HEAD = "+head";
/** Suffix of policy names that draft with prompt lookup first and the draft model otherwise. */
export const WITH_LOOKUP = "+lookup";
/** Policies that can use a head. */
const HEAD_POLICIES = ["cascade", "adaptive"];
/** Variants that are not verispec policies (and take no modifiers). */
const OTHER_VARIANTS = [TARGET_ONLY, PEER_DRAFT, PEER_LOOKUP, LLAMACPP_TARGET_ONLY, LLAMACPP_SPEC];

/** Every name --policies accepts, modifiers aside (verispec policies take +head where listed, and +lookup). */
export const BENCH_POLICY_NAMES = [TARGET_ONLY, ...POLICY_NAMES, ...HEAD_POLICIES.map((p) => p + WITH_HEAD), ...OTHER_VARIANTS.slice(1)];

type ParsedPolicy = Pick<BenchVariant, "policy" | "basePolicy" | "head" | "lookupFirst">;

/** Splits "adaptive+head+lookup" into the policy and its modifiers; refuses names and modifiers it does not know. */
export function parseBenchPolicy(name: string): ParsedPolicy {
  const [basePolicy, ...modifiers] = name.split("+");
  const known = OTHER_VARIANTS.includes(basePolicy) ? modifiers.length === 0 : POLICY_NAMES.includes(basePolicy);
  const head = modifiers.includes(WITH_HEAD.slice(1));
  const lookupFirst = modifiers.includes(WITH_LOOKUP.slice(1));
  const valid = known && modifiers.length === Number(head) + Number(lookupFirst) && (!head || HEAD_POLICIES.includes(basePolicy));
  if (!valid) throw new RangeError(`unknown policy "${name}"; known policies: ${BENCH_POLICY_NAMES.join(", ")} (verispec policies also with ${WITH_LOOKUP})`);
  return { policy: name, basePolicy, head, lookupFirst };
}

/** Peers that only decode greedily: at other temperatures they are left out. */
const GREEDY_ONLY = [LLAMACPP_TARGET_ONLY, LLAMACPP_SPEC];

/** Variants that draft with a length k (the others run once per temperature). */
function usesK(policy: string): boolean {
  return policy !== TARGET_ONLY && policy !== PEER_LOOKUP && policy !== LLAMACPP_TARGET_ONLY;
}

/**
 * The variants, in run order; unknown policy names are refused with the list of known ones. A policy written
 * "name:k" runs at that draft length only (so "chain:2,chain:8,tree:4" mixes lengths); plain names take every --k.
 */
export function benchVariants(policies: readonly string[], ks: readonly number[], temperatures: readonly number[]): BenchVariant[] {
  const entries = policies.map((p) => {
    const [name, k] = p.split(":");
    return { parsed: parseBenchPolicy(name), ks: k === undefined ? ks : [Number(k)] };
  });
  if (entries.some((e) => e.ks.length === 0 || e.ks.some((k) => !Number.isInteger(k) || k < 1 || k > 64)))
    throw new RangeError("draft lengths (--k, or policy:k) are whole numbers from 1 to 64");
  if (temperatures.length === 0 || temperatures.some((t) => !(t >= 0) || !Number.isFinite(t))) throw new RangeError("--temperatures takes numbers >= 0");
  const out: BenchVariant[] = [];
  for (const temperature of temperatures) {
    for (const { parsed, ks: lengths } of entries) {
      const policy = parsed.policy;
      if (temperature !== 0 && GREEDY_ONLY.includes(policy)) continue;
      for (const k of usesK(policy) ? lengths : [0]) out.push({ id: `${policy}${k ? ` k=${k}` : ""} T=${temperature}`, ...parsed, k, temperature });
    }
  }
  return out;
}

/** Parses a comma-separated list of numbers or names. */
export function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
