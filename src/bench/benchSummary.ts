/** The summary of a benchmark run, computed from its raw rows alone (so it can be recomputed from the CSV). */
import {
  type BenchRow,
  type BestAtTemperature,
  type EagleBest,
  LLAMACPP_EAGLE,
  LLAMACPP_SPEC,
  LLAMACPP_TARGET_ONLY,
  PEER_DRAFT,
  PEER_LOOKUP,
  type StepTimeSplit,
  TARGET_ONLY,
  type VariantSummary,
} from "./benchTypes.js";

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const finite = (xs: number[]) => xs.filter(Number.isFinite);

function perRepeatRates(rows: BenchRow[]): number[] {
  const repeats = [...new Set(rows.map((r) => r.repeat))].sort((a, b) => a - b);
  return repeats.map((rep) => {
    const rs = rows.filter((r) => r.repeat === rep);
    return sum(rs.map((r) => r.tokens)) / sum(rs.map((r) => r.seconds));
  });
}

function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const mean = sum(xs) / xs.length;
  return Math.sqrt(sum(xs.map((x) => (x - mean) ** 2)) / (xs.length - 1));
}

/** Per draft position: accepted / reached, over all rows (from the "a/r a/r ..." column). */
function positions(rows: BenchRow[]): number[] {
  const acc: number[] = [];
  const reach: number[] = [];
  for (const r of rows) {
    r.acceptanceByPosition
      .split(" ")
      .filter(Boolean)
      .forEach((cell, i) => {
        const [a, n] = cell.split("/").map(Number);
        acc[i] = (acc[i] ?? 0) + a;
        reach[i] = (reach[i] ?? 0) + n;
      });
  }
  return acc.map((a, i) => (reach[i] ? a / reach[i] : 0));
}

/** Leviathan et al.'s expected tokens per block for acceptance rate a and draft length k, and that over the measured block cost. */
export function chainBound(rows: BenchRow[], k: number, acceptance: number): { tokensPerBlock: number; tokensPerSecond: number } {
  const a = Math.min(acceptance, 1 - 1e-9);
  const tokensPerBlock = (1 - a ** (k + 1)) / (1 - a);
  const draftPerToken = sum(rows.map((r) => r.draftSeconds)) / Math.max(1, sum(rows.map((r) => r.drafted)));
  const verifyPerPass = sum(rows.map((r) => r.verifySeconds)) / Math.max(1, sum(rows.map((r) => r.steps)));
  return { tokensPerBlock, tokensPerSecond: tokensPerBlock / (k * draftPerToken + verifyPerPass) };
}

/** Whether a variant's text should equal target-only's: greedy, or verispec sampling by the coupled rule (same seed). */
function expectsTargetText(row: BenchRow): boolean {
  if (row.policy === TARGET_ONLY) return false;
  const peer = row.policy.startsWith(LLAMACPP_SPEC) || [LLAMACPP_TARGET_ONLY, PEER_DRAFT, PEER_LOOKUP].includes(row.policy);
  return row.temperature === 0 || (!peer && !row.policy.split("+").includes("rejection"));
}

/** For greedy and coupled rows: how many generated exactly what target-only generated on the same prompt and repeat. */
function identity(rows: BenchRow[], targetOnly: readonly BenchRow[]): VariantSummary["identicalToTargetOnly"] {
  if (!expectsTargetText(rows[0])) return null;
  const t = rows[0].temperature;
  const want = new Map(targetOnly.filter((r) => r.temperature === t && r.output).map((r) => [`${r.prompt}/${r.repeat}`, r.output]));
  const compared = rows.filter((r) => r.output && want.has(`${r.prompt}/${r.repeat}`));
  if (compared.length === 0) return null;
  return { identical: compared.filter((r) => r.output === want.get(`${r.prompt}/${r.repeat}`)).length, compared: compared.length };
}

/** Where a step's time went (ms per step), from the native time split of the rows; null when they have none. */
function stepTimeSplit(rows: BenchRow[]): StepTimeSplit | null {
  const steps = sum(rows.map((r) => r.steps));
  if (!(steps > 0) || rows.some((r) => !Number.isFinite(r.targetDecodeSeconds))) return null;
  const ms = (f: (r: BenchRow) => number) => (1000 * sum(rows.map(f))) / steps;
  const split = {
    step: ms((r) => r.seconds),
    draft: ms((r) => r.draftSeconds),
    drafterDecode: ms((r) => r.drafterDecodeSeconds),
    pass: ms((r) => r.verifySeconds),
    targetDecode: ms((r) => r.targetDecodeSeconds),
    rowWork: ms((r) => r.rowWorkSeconds),
    handoff: ms((r) => r.handoffSeconds),
  };
  return { ...split, javascript: split.step - split.drafterDecode - split.targetDecode - split.rowWork - split.handoff };
}

function summarizeVariant(rows: BenchRow[], baseline: number | undefined, targetOnly: readonly BenchRow[]): VariantSummary {
  const first = rows[0];
  const tokens = sum(rows.map((r) => r.tokens));
  const seconds = sum(rows.map((r) => r.seconds));
  const rates = perRepeatRates(rows);
  const drafted = sum(rows.map((r) => r.drafted));
  const accepted = sum(rows.map((r) => r.accepted));
  const steps = finite(rows.map((r) => r.steps));
  const known = (f: (r: BenchRow) => number) => (finite(rows.map(f)).length ? sum(finite(rows.map(f))) : Number.NaN);
  const acceptanceRate = drafted ? accepted / drafted : 0;
  const bound = first.policy === "chain" ? chainBound(rows, first.k, acceptanceRate) : null;
  return {
    variant: first.variant,
    policy: first.policy,
    k: first.k,
    temperature: first.temperature,
    generations: rows.length,
    tokens,
    seconds,
    tokensPerSecond: tokens / seconds,
    tokensPerSecondByRepeat: rates,
    tokensPerSecondMin: Math.min(...rates),
    tokensPerSecondMax: Math.max(...rates),
    tokensPerSecondStd: std(rates),
    speedup: baseline ? tokens / seconds / baseline : null,
    meanAcceptedPerBlock: steps.length ? (accepted + sum(steps)) / sum(steps) : Number.NaN,
    acceptanceRate,
    acceptanceByPosition: positions(rows),
    targetCallsPerSequence: known((r) => r.targetCalls) / rows.length,
    drafterCallsPerSequence: known((r) => r.drafterCalls) / rows.length,
    targetCallsPer100Tokens: (100 * known((r) => r.targetCalls)) / tokens,
    drafterCallsPer100Tokens: (100 * known((r) => r.drafterCalls)) / tokens,
    boundTokensPerBlock: bound?.tokensPerBlock ?? null,
    boundTokensPerSecond: bound?.tokensPerSecond ?? null,
    identicalToTargetOnly: identity(rows, targetOnly),
    stepMs: stepTimeSplit(rows),
    copyRate: weightedCopyRate(rows),
  };
}

/** The copy rate over the rows' tokens (null where no row knows it: peers). */
function weightedCopyRate(rows: BenchRow[]): number | null {
  const known = rows.filter((r) => Number.isFinite(r.copyRate));
  const tokens = sum(known.map((r) => r.tokens));
  return tokens > 0 ? sum(known.map((r) => r.copyRate * r.tokens)) / tokens : null;
}

const LLAMACPP = [LLAMACPP_TARGET_ONLY, LLAMACPP_SPEC];
const NODE_LLAMA_CPP = [PEER_DRAFT, PEER_LOOKUP];
const isLlama = (v: VariantSummary) => LLAMACPP.some((p) => v.policy.startsWith(p));
const fastest = (vs: VariantSummary[]) => vs.reduce<VariantSummary | undefined>((b, v) => (!b || v.tokensPerSecond > b.tokensPerSecond ? v : b), undefined);

/** Whether a variant drafts with the EAGLE-3 head: verispec's "+eagle", llama.cpp's draft-eagle3 among its types. */
function draftsWithEagle(v: VariantSummary): boolean {
  if (!isLlama(v)) return v.policy.split("+").slice(1).includes("eagle");
  const types = v.policy.match(/^llamacpp-spec\[([^|\]]*)/)?.[1];
  return types?.split(",").includes(LLAMACPP_EAGLE) ?? false;
}

/** The fastest +eagle variant against the fastest llamacpp-spec[draft-eagle3] one, where both ran. */
function eagleBest(at: VariantSummary[]): EagleBest | undefined {
  const ours = fastest(at.filter((v) => !isLlama(v) && draftsWithEagle(v)));
  const theirs = fastest(at.filter((v) => isLlama(v) && draftsWithEagle(v)));
  if (!ours || !theirs) return undefined;
  const pick = (v: VariantSummary) => ({ variant: v.variant, tokensPerSecond: v.tokensPerSecond });
  return { verispec: pick(ours), llamacpp: pick(theirs), ratio: ours.tokensPerSecond / theirs.tokensPerSecond };
}

/**
 * Per temperature: the fastest verispec variant against the fastest llama.cpp one, the two targets alone, and, where
 * both drafted with the EAGLE-3 head, the fastest of each side's variants with it.
 */
export function bestByTemperature(variants: readonly VariantSummary[]): BestAtTemperature[] {
  const temperatures = [...new Set(variants.map((v) => v.temperature))];
  return temperatures.map((temperature) => {
    const at = variants.filter((v) => v.temperature === temperature && !NODE_LLAMA_CPP.includes(v.policy));
    const ours = fastest(at.filter((v) => !isLlama(v)));
    const theirs = fastest(at.filter(isLlama));
    const alone = at.find((v) => v.policy === TARGET_ONLY);
    const theirsAlone = at.find((v) => v.policy === LLAMACPP_TARGET_ONLY);
    const pick = (v: VariantSummary | undefined) => (v ? { variant: v.variant, tokensPerSecond: v.tokensPerSecond } : null);
    const eagle = eagleBest(at);
    return {
      temperature,
      verispec: pick(ours),
      llamacpp: pick(theirs),
      ratio: ours && theirs ? ours.tokensPerSecond / theirs.tokensPerSecond : null,
      targetOnlyRatio: alone && theirsAlone ? alone.tokensPerSecond / theirsAlone.tokensPerSecond : null,
      copyRate: alone?.copyRate ?? null,
      ...(eagle ? { eagle } : {}),
    };
  });
}

/** One summary per variant, in first-seen order; speedups are against target-only at the same temperature. */
export function summarizeRows(rows: readonly BenchRow[]): VariantSummary[] {
  const ids = [...new Set(rows.map((r) => r.variant))];
  const byId = (id: string) => rows.filter((r) => r.variant === id);
  const baselines = new Map<number, number>();
  for (const id of ids) {
    const rs = byId(id);
    if (rs[0].policy === TARGET_ONLY) baselines.set(rs[0].temperature, sum(rs.map((r) => r.tokens)) / sum(rs.map((r) => r.seconds)));
  }
  const targetOnly = rows.filter((r) => r.policy === TARGET_ONLY);
  return ids.map((id) => summarizeVariant(byId(id), baselines.get(byId(id)[0].temperature), targetOnly));
}
