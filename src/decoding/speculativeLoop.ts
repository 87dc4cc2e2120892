/**
 * One generation with speculative decoding: the scheduler (scheduler.ts) driven with a single request, so a
 * lone generation and a server's concurrent ones run the same plan -> evaluate -> settle step.
 */

import type { Drafter } from "../drafters/drafter.js";
import type { StepEvent } from "../generation/generationTypes.js";
import type { LanguageModel } from "../model/session.js";
import type { TokenId } from "../model/vocabulary.js";
import { ChainPolicy } from "../policies/chainPolicy.js";
import type { SpeculativeOptions } from "./generationRequest.js";
import { SpeculativeScheduler } from "./scheduler.js";

export type { SpeculativeOptions } from "./generationRequest.js";

/** Generates with a drafter and the target; yields one step event per verified block. The caller owns the drafter. */
export async function* generateSpeculative(
  target: LanguageModel,
  drafter: Drafter,
  prompt: string | readonly TokenId[],
  options: SpeculativeOptions = {},
): AsyncGenerator<StepEvent> {
  const policy = options.policy ?? new ChainPolicy();
  const scheduler = new SpeculativeScheduler(target, { slots: 1, sequencesPerSlot: policy.maxSequences, contextSize: options.contextSize });
  try {
    yield* scheduler.submit({ ...options, policy, prompt, drafter });
  } finally {
    await scheduler.close();
  }
}
