/**
 * The scheduler: many requests, one target. Each step plans every active request in one round of the pass merger
 * (their drafters step side by side, in shared drafter passes where they share a drafter model), merges every
 * request's block into ONE target pass, then settles each request on its own rows. A request waits for a free
 * slot of the target's cache, joins at the next step, and leaves when it finishes, fails, is aborted or its
 * reader goes away, freeing its slot within that step. `generateSpeculative` drives it with a single request.
 */

import type { StepEvent } from "../generation/generationTypes.js";
import { checkPromptFits, prefill } from "../generation/prompt.js";
import type { LanguageModel, ModelSession } from "../model/session.js";
import { runDraws } from "../sampling/tokenDraws.js";
import { SharedModel } from "../slots/sharedModel.js";
import { ActiveRequest, type GenerationRequest } from "./generationRequest.js";
import { countStep, emptySchedulerStats, type SchedulerStats } from "./schedulerStats.js";
import { type PlannedStep, planStep, settleRun, settleStep } from "./speculativeStep.js";

export interface SchedulerOptions {
  /** Requests generating at once; 1 by default. */
  slots?: number;
  /** Target sequences each slot owns: 1 + the most tree alternatives any request's policy uses; 1 by default. */
  sequencesPerSlot?: number;
  /** Context of each slot in tokens; the model's default when omitted. */
  contextSize?: number;
  /** Most requests waiting for a slot; `submit` refuses more with QueueFullError. Unbounded by default. */
  maxWaiting?: number;
  /**
   * Prompt tokens a new request may bring into its first step's shared pass (the rest is prefilled on its own
   * when it is admitted): with several slots, a new prompt then costs the others one larger pass rather than a
   * pass of its own. DEFAULT_PROMPT_IN_STEP with more than one slot, 0 (a separate prefill) with one, and where
   * a prefill runs other kernels than the other passes (SharedModel.prefillsApart: a prompt is then
   * prefilled alone, as its target-only generation prefills it, or its numbers would differ).
   */
  promptInStep?: number;
}

export { emptySchedulerStats, type SchedulerStats } from "./schedulerStats.js";

/** Prompt tokens a new request brings into its first shared step, by default, when there are several slots. */
export const DEFAULT_PROMPT_IN_STEP = 256;

/** Raised by `submit` when every slot is busy and the waiting line is full. */
export class QueueFullError extends Error {}

interface Planned {
  request: ActiveRequest;
  plan: PlannedStep;
}

/** Longest stretch of steps without letting the event loop turn, in ms. */
const EVENT_LOOP_TURN_MS = 2;

export class SpeculativeScheduler {
  readonly stats: SchedulerStats = emptySchedulerStats();
  private readonly target: SharedModel;
  private readonly waiting: ActiveRequest[] = [];
  private readonly active = new Set<ActiveRequest>();
  private running: Promise<void> | undefined;
  private closed = false;
  /** Requests taken off the waiting line and not yet ended (admitting or active). */
  private holding = 0;

  constructor(
    target: LanguageModel,
    private readonly options: SchedulerOptions = {},
  ) {
    this.target = new SharedModel(target, { slots: options.slots ?? 1, sequencesPerSlot: options.sequencesPerSlot ?? 1, contextSize: options.contextSize });
  }

  /** Requests generating now. */
  get activeRequests(): number {
    return this.active.size;
  }

  /** Requests waiting for a slot. */
  get waitingRequests(): number {
    return this.waiting.length;
  }

  /** Queues a request; its step events arrive as it generates. Throws at once on a bad prompt or a full queue. */
  submit(request: GenerationRequest): AsyncIterable<StepEvent> {
    if (this.closed) throw new Error("the scheduler is closed");
    const r = new ActiveRequest(request, this.target.vocabulary);
    const slots = this.target.options.slots;
    if (this.waiting.length + this.holding >= slots + (this.options.maxWaiting ?? Infinity))
      throw new QueueFullError(`all ${slots} slots are busy and ${Math.max(0, this.waiting.length + this.holding - slots)} requests are waiting`);
    this.queue(r);
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return r.events;
  }

  /**
   * Puts a request on the waiting line. One whose signal aborts while it waits leaves the line at once (its events
   * end "aborted"), so a caller that gives up does not keep a place another request could have.
   */
  private queue(r: ActiveRequest): void {
    this.waiting.push(r);
    const signal = r.submitted.signal;
    if (!signal || signal.aborted) return;
    const leave = () => {
      const i = this.waiting.indexOf(r);
      if (i < 0) return;
      this.waiting.splice(i, 1);
      if (r.submitted.releaseDrafter) r.drafter?.dispose();
      r.events.push(r.endedEvent("aborted"));
      r.events.close();
    };
    signal.addEventListener("abort", leave, { once: true });
    r.stopWaiting = () => signal.removeEventListener("abort", leave);
  }

  /** Ends every request (they fail with an error saying so) and frees the target's cache. */
  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.waiting.splice(0)) {
      r.stopWaiting?.();
      r.events.fail(new Error("the scheduler was closed"));
    }
    await this.running;
    this.target.dispose();
  }

  private async run(): Promise<void> {
    // Let the requests submitted in the same turn of the event loop start together.
    await new Promise((resolve) => setImmediate(resolve));
    let turned = performance.now();
    while (this.waiting.length > 0 || this.active.size > 0) {
      await this.admitWaiting();
      if (this.active.size > 0) await this.step();
      // A backend that answers without I/O (the n-gram model) never lets the event loop turn between steps,
      // and then no new request, closed socket or timer is seen until every generation ends: let it turn.
      if (performance.now() - turned > EVENT_LOOP_TURN_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        turned = performance.now();
      }
    }
  }

  /** Gives free slots to waiting requests, in order: opens the slot, prefills the prompt, starts the drafter. */
  private async admitWaiting(): Promise<void> {
    const admitted: ActiveRequest[] = [];
    while (this.waiting.length > 0 && this.target.freeSlots > admitted.length) admitted.push(this.waiting.shift()!);
    if (admitted.length === 0) return;
    // Off the line: an abort from now on is seen at the request's next step.
    for (const r of admitted) r.stopWaiting?.();
    this.holding += admitted.length;
    const start = performance.now();
    // A drafter reading the target's states reads (and opens its head on) the target's context, which llama.cpp
    // refuses while a pass holds it: those requests are admitted one at a time, after the others' prefills.
    const reads = (r: (typeof admitted)[number]) => r.drafter?.capabilities.targetReading !== undefined;
    await Promise.all(admitted.filter((r) => !reads(r)).map((r) => this.admit(r)));
    for (const r of admitted.filter(reads)) await this.admit(r);
    this.stats.admitMs += performance.now() - start;
  }

  private async admit(r: ActiveRequest): Promise<void> {
    if (r.cancelled) {
      r.events.push(r.endedEvent("aborted"));
      return this.end(r);
    }
    r.submitted.onAdmitted?.();
    try {
      r.session = await this.target.createSession({ maxSequences: r.policy.maxSequences, contextSize: r.submitted.contextSize });
      checkPromptFits(r.context, r.session, 1);
      const inStep = this.options.promptInStep ?? this.defaultPromptInStep(r.session);
      const alone = r.context.slice(0, Math.max(0, r.context.length - 1 - inStep));
      // A drafter reading the target's states reads them from the prompt's prefill on.
      r.drafter?.capabilities.targetReading?.attach(r.session, 0);
      // The last prompt token's row is not read, but asking for it sizes llama.cpp's buffers for passes with outputs
      // now: the first step's pass would otherwise pay that (10-20 ms on this CPU for a 1-token pass, against 2-3).
      await prefill(r.session, alone, 0, true);
      r.targetCalls = Math.ceil(alone.length / r.session.batchSize) + 1;
      // One after the other: on a CPU both models' thread pools want every core, and two pools sharing
      // them wait on each other at every graph node's barrier.
      await r.drafter?.start(r.context);
      this.active.add(r);
      this.stats.admissions++;
    } catch (error) {
      this.end(r, error);
    }
  }

  private defaultPromptInStep(slot: ModelSession): number {
    return this.target.options.slots > 1 && !this.target.prefillsApart(slot) ? DEFAULT_PROMPT_IN_STEP : 0;
  }

  /** Plan every request, one target pass for all, settle each. */
  private async step(): Promise<void> {
    const requests = [...this.active];
    const planning = performance.now();
    // Every request's planning is a party of one round: the drafters' passes merge whenever all of them wait for one.
    const planned = (await this.target.merger.round(requests.map((r) => () => this.plan(r)))).filter((p): p is Planned => p !== undefined);
    if (planned.length === 0) return;
    const start = performance.now();
    if (planned.length === 1 && (await this.runStep(planned[0], start - planning))) return;
    const rows = await this.target.evaluateTogether(planned.map((p) => ({ session: p.request.slot, batch: p.plan.layout.batch }))).catch((error) => {
      for (const p of planned) this.end(p.request, error);
      return undefined;
    });
    if (!rows) return;
    const settling = performance.now();
    const pass = {
      ms: settling - start,
      tokens: planned.reduce((n, p) => n + p.plan.layout.batch.length, 0),
      prefill: planned.reduce((n, p) => n + p.plan.prefill, 0),
      requests: planned.length,
    };
    // A request that has emitted nothing yet is at its first step, which carries what of its prompt was not prefilled.
    const joined = planned.some((p) => p.request.tracker.tokens.length === 0);
    for (const [i, p] of planned.entries()) this.settle(p, rows[i], pass);
    countStep(this.stats, pass, { planMs: start - planning, settleMs: performance.now() - settling, joined });
  }

  /**
   * A lone request's step that drafts nothing and asks for a run (DraftBlock.run): the target's own next tokens in
   * one backend call, where the backend can and no constraint needs the rows in JavaScript; false if it did not run.
   * A sampled run draws each token as a step of its own would (runDraws).
   */
  private async runStep({ request: r, plan }: Planned, planMs: number): Promise<boolean> {
    // Within the token budget and the context, as any block.
    const steps = Math.min(plan.block.run ?? 0, r.draftLimit() + 1);
    const s = r.judge.sampling;
    const part = { session: r.slot, batch: plan.layout.batch };
    // A drafter that reads the target's rows (targetReading) gets every step's: no runs, whose rows stay native.
    if (steps < 2 || plan.block.tokens.length > 0 || r.judge.constraints.active || r.drafter?.capabilities.targetReading) return false;
    if (!this.target.canRunAlone(part, s.mode === "sample")) return false;
    const start = performance.now();
    const joined = r.tracker.tokens.length === 0;
    try {
      // The run's first token takes index context.length of the sequence.
      const sampler =
        s.mode === "sample" ? { transform: s, draws: runDraws(s, r.context.length, steps, r.judge.rng!), into: this.runStorage(r, steps) } : undefined;
      const tokens = await this.target.runAlone(part, steps, sampler);
      const settling = performance.now();
      const pass = { ms: settling - start, tokens: plan.layout.batch.length + steps - 1, prefill: plan.prefill, requests: 1 };
      for (const event of settleRun(r, plan, tokens, pass)) {
        r.events.push(event);
        if (event.finish) this.end(r);
      }
      countStep(this.stats, pass, { planMs, settleMs: performance.now() - settling, joined });
    } catch (error) {
      this.end(r, error);
    }
    return true;
  }

  /** A request's storage for its sampled runs' distributions (steps x vocabulary), allocated once at the longest run. */
  private runStorage(r: ActiveRequest, steps: number): Float64Array {
    const size = steps * this.target.vocabulary.size;
    if (!r.runDistributions || r.runDistributions.length < size) r.runDistributions = new Float64Array(size);
    return r.runDistributions;
  }

  private async plan(r: ActiveRequest): Promise<Planned | undefined> {
    try {
      return { request: r, plan: await planStep(r) };
    } catch (error) {
      this.end(r, error);
      return undefined;
    }
  }

  private settle({ request, plan }: Planned, rows: Parameters<typeof settleStep>[2], pass: Parameters<typeof settleStep>[3]): void {
    try {
      const event = settleStep(request, plan, rows, pass);
      request.events.push(event);
      if (event.finish) this.end(request);
    } catch (error) {
      this.end(request, error);
    }
  }

  /** The request leaves: its slot is freed, its drafter released if it was handed over, its events end. */
  private end(r: ActiveRequest, error?: unknown): void {
    this.active.delete(r);
    this.holding--;
    r.session?.dispose();
    if (r.submitted.releaseDrafter) r.drafter?.dispose();
    if (error === undefined) r.events.close();
    else r.events.fail(error);
  }
}
