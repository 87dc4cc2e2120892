/** Helpers for tests that run requests through the scheduler. */

import type { StepEvent } from "../../src/generation/generationTypes.js";
import type { TokenId } from "../../src/model/vocabulary.js";

/** Runs every request of a scheduler to the end; returns each one's tokens and step events. */
export async function drain(streams: AsyncIterable<StepEvent>[]): Promise<{ tokens: TokenId[]; steps: StepEvent[] }[]> {
  return Promise.all(
    streams.map(async (s) => {
      const steps: StepEvent[] = [];
      for await (const step of s) steps.push(step);
      return { tokens: steps.flatMap((e) => e.tokens), steps };
    }),
  );
}
