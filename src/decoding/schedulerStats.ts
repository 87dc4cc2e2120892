/** What a scheduler counts over its life: steps, requests per step, tokens in passes, and the time of each phase. */

/** Counters over the scheduler's life (times in ms, summed over steps: divide by `steps` for a step's mean). */
export interface SchedulerStats {
  steps: number;
  /** Requests per step, summed (steps x mean batch of requests). */
  requestSteps: number;
  /** Tokens in target passes, summed. */
  passTokens: number;
  /** Requests given a slot (their prefill of what does not join a step, and their drafter's start). */
  admissions: number;
  /** Admitting: opening slots, prefills of prompt parts that do not join a step, drafters' starts. */
  admitMs: number;
  /** Planning every request's block (the drafters' passes), from the step's start to its target pass. */
  planMs: number;
  /** The shared target pass. */
  passMs: number;
  /** Judging, rolling back and emitting every request's block. */
  settleMs: number;
  /** Steps whose pass carried a newly admitted request's prompt, and those passes' time. */
  joinSteps: number;
  joinPassMs: number;
}

/** A fresh set of counters. */
export function emptySchedulerStats(): SchedulerStats {
  return { steps: 0, requestSteps: 0, passTokens: 0, admissions: 0, admitMs: 0, planMs: 0, passMs: 0, settleMs: 0, joinSteps: 0, joinPassMs: 0 };
}

/** Counts a step: its target pass (or run) and the time spent planning and settling around it. */
export function countStep(
  s: SchedulerStats,
  pass: { ms: number; tokens: number; requests: number },
  step: { planMs: number; settleMs: number; joined: boolean },
): void {
  s.steps++;
  s.requestSteps += pass.requests;
  s.passTokens += pass.tokens;
  s.planMs += step.planMs;
  s.passMs += pass.ms;
  s.settleMs += step.settleMs;
  if (step.joined) {
    s.joinSteps++;
    s.joinPassMs += pass.ms;
  }
}
