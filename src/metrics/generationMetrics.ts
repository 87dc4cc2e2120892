/** Metrics of one generation, from its step events, and their aggregation over many. */
import type { StepEvent } from "../generation/generationTypes.js";

export interface GenerationMetrics {
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  /** Steps that verified at least one drafted token. */
  blocks: number;
  /** Tokens emitted per step, bonus token included (as vLLM counts it); 1 for target-only. */
  meanAcceptedPerBlock: number;
  drafted: number;
  accepted: number;
  /** accepted / drafted. */
  acceptanceRate: number;
  /** Per draft position i: of the blocks that drafted a token at i, the share whose token at i was accepted. */
  acceptanceByPosition: number[];
  drafterCalls: number;
  targetCalls: number;
  draftSeconds: number;
  verifySeconds: number;
  /** Wall time not spent drafting or verifying (prefill, bookkeeping). */
  otherSeconds: number;
  /** Blocks whose drafting a verifier stage stopped, by stage. */
  cutsByStage: Record<string, number>;
  /** Shadow mode: tokens drafted past cuts and verified only to price them (0 without shadow mode). */
  shadowDrafted: number;
  /** Shadow mode, by stage: tokens the target would have accepted past the cut (the price of the cut). */
  shadowAcceptedByStage: Record<string, number>;
  /** Alternative tokens (tree branches) verified, and how many steps a branch won. */
  branchesVerified: number;
  branchesAccepted: number;
}

function countByStage(steps: readonly StepEvent[], value: (s: StepEvent) => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) if (s.cutBy) out[s.cutBy] = (out[s.cutBy] ?? 0) + value(s);
  return out;
}

/** Metrics of one generation from its steps and its wall-clock time. */
export function generationMetrics(steps: readonly StepEvent[], wallSeconds: number): GenerationMetrics {
  const sum = (f: (s: StepEvent) => number) => steps.reduce((a, s) => a + f(s), 0);
  const tokens = sum((s) => s.tokens.length);
  const drafted = sum((s) => s.drafted);
  const accepted = sum((s) => s.accepted);
  const draftSeconds = sum((s) => s.draftMs) / 1000;
  const verifySeconds = sum((s) => s.verifyMs) / 1000;
  const longest = steps.reduce((m, s) => Math.max(m, s.drafted), 0);
  const acceptanceByPosition = Array.from({ length: longest }, (_, i) => {
    const reached = steps.filter((s) => s.drafted > i);
    return reached.filter((s) => s.accepted > i).length / reached.length;
  });
  return {
    tokens,
    seconds: wallSeconds,
    tokensPerSecond: wallSeconds > 0 ? tokens / wallSeconds : 0,
    blocks: steps.filter((s) => s.drafted > 0).length,
    meanAcceptedPerBlock: steps.length ? sum((s) => s.accepted + 1) / steps.length : 0,
    drafted,
    accepted,
    acceptanceRate: drafted ? accepted / drafted : 0,
    acceptanceByPosition,
    drafterCalls: sum((s) => s.drafterCalls),
    targetCalls: sum((s) => s.targetCalls),
    draftSeconds,
    verifySeconds,
    otherSeconds: Math.max(0, wallSeconds - draftSeconds - verifySeconds),
    cutsByStage: countByStage(steps, () => 1),
    shadowDrafted: sum((s) => s.shadowDrafted ?? 0),
    shadowAcceptedByStage: countByStage(steps, (s) => s.shadowAccepted ?? 0),
    branchesVerified: sum((s) => s.branches ?? 0),
    branchesAccepted: steps.filter((s) => s.branchAccepted).length,
  };
}

/** Collects a generation's step events and text, timing it. */
export async function collectGeneration(
  steps: AsyncIterable<StepEvent>,
): Promise<{ text: string; tokens: number[]; steps: StepEvent[]; metrics: GenerationMetrics }> {
  const start = performance.now();
  const all: StepEvent[] = [];
  let text = "";
  const tokens: number[] = [];
  for await (const step of steps) {
    all.push(step);
    text += step.text;
    tokens.push(...step.tokens);
  }
  return { text, tokens, steps: all, metrics: generationMetrics(all, (performance.now() - start) / 1000) };
}
