/**
 * One model session shared by many generations. Each generation opens a slot: a `ModelSession` that owns a
 * fixed range of the shared cache's sequences and sees them as 0..width-1, so tree layouts, rollbacks and
 * `keepOnlySequence` stay inside the slot. Passes of several slots go into ONE backend call, merged by the
 * process's PassMerger (passMerger.ts), the one place passes are merged:
 * - `evaluateTogether` merges the parts a scheduler hands over (the target's step) at once;
 * - a slot's own `evaluate`, and its greedy run (`continueGreedy`, where the backend runs several rows at once and
 *   cells are not pinned: sharedRuns.ts), wait for the merger's next merge, with every other slot's of its round
 *   (drafters stepping side by side); outside a round they are merged at once.
 * Rows a pass returns are views that stay valid until this shared session's next pass.
 */

import type { GreedyRun, LogitRows, RowSummaryKind, RunSampler, RunSummaryKind } from "../model/rows.js";
import {
  type BatchToken,
  DEFAULT_CONTEXT_SIZE,
  type EvaluateOptions,
  type LanguageModel,
  type ModelSession,
  type SessionCapabilities,
  type SessionOptions,
} from "../model/session.js";
import type { TokenId, Vocabulary } from "../model/vocabulary.js";
import { PinnedCells } from "./cellPinning.js";
import { evaluateMerged } from "./mergedPass.js";
import { type MergeSink, type PassMerger, PROCESS_MERGER, type SlotPass } from "./passMerger.js";
import { checkRunBatch, packParts, type RunPart, runTogether } from "./sharedRuns.js";
import { SlotSession } from "./slotSession.js";

export type { SlotPass } from "./passMerger.js";

export interface SharedModelOptions {
  /** How many generations can hold a slot at once. */
  slots: number;
  /** Sequences each slot owns (1 for a chain; 1 + alternatives for trees). */
  sequencesPerSlot: number;
  /** Context of each slot in tokens; the model's default when omitted. */
  contextSize?: number;
  /**
   * Keep each slot's cache cells in position order (cellPinning.ts), so its logits do not depend on the other
   * slots. By default only where that is so: not where the session's logits depend on the pass's size anyway
   * (SessionCapabilities.passNumerics.passSizeMatters: stock CUDA kernels). true pins wherever the backend can; false never
   * (a drafter, whose numbers never decide the output, can do without).
   */
  pinCells?: boolean;
  /** What the shared session summarises of each row ("argmax" by default; "top" for a drafter). */
  rowSummary?: RowSummaryKind;
  /** Whether passes keep batch invariance where the backend has it on (SessionOptions); true by default. */
  batchInvariant?: boolean;
}

/** Cells added per slot beyond its context when slots share a cache: tree branches briefly hold a few more. */
const CELLS_PER_SLOT_MARGIN = 64;

export class SharedModel implements LanguageModel, MergeSink {
  readonly name: string;
  readonly vocabulary: Vocabulary;
  readonly trainContextSize: number;
  /** Backend evaluate calls made for all slots together. */
  passes = 0;
  private shared: Promise<ModelSession> | undefined;
  /** The shared session once open. */
  private settledShared: ModelSession | undefined;
  /** Fixed cells per slot (llama.cpp with several slots: see cellPinning.ts). */
  private pinned: PinnedCells | undefined;
  private readonly free: number[];
  private readonly held = new Set<ModelSession>();
  /** Where its slots' passes are merged with every other slot's. */
  readonly merger: PassMerger = PROCESS_MERGER;
  private tail: Promise<unknown> = Promise.resolve();
  /** Slots given back whose cells are not cleared yet (release). */
  private releasing = 0;

  constructor(
    private readonly model: LanguageModel,
    readonly options: SharedModelOptions,
  ) {
    for (const [key, v] of Object.entries({ slots: options.slots, sequencesPerSlot: options.sequencesPerSlot }))
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${key} must be a positive integer, got ${v}`);
    this.name = model.name;
    this.vocabulary = model.vocabulary;
    this.trainContextSize = model.trainContextSize;
    this.free = Array.from({ length: options.slots }, (_, i) => options.slots - 1 - i);
  }

  /** Whether a slot's prompts must be prefilled in passes of their own to get the numbers a generation alone gets (PassNumerics.prefillsApart). */
  prefillsApart(slot: ModelSession): boolean {
    return slot.capabilities.passNumerics.prefillsApart;
  }

  /** Slots not held by a generation. */
  get freeSlots(): number {
    return this.free.length;
  }

  /** Opens a slot; fails when every slot is held or the slot is too small for what is asked. */
  async createSession(options: SessionOptions = {}): Promise<ModelSession> {
    const shared = await this.sharedSession();
    const width = options.maxSequences ?? 1;
    if (width > this.options.sequencesPerSlot)
      throw new RangeError(`a slot holds ${this.options.sequencesPerSlot} sequences; ${width} were asked for (a larger tree needs a larger slot)`);
    const contextSize = this.slotContext(shared);
    if (options.contextSize !== undefined && options.contextSize > contextSize)
      throw new RangeError(`a slot holds ${contextSize} tokens of context; ${options.contextSize} were asked for`);
    // A slot given back waits for the passes in flight before its place is free again.
    if (this.free.length === 0 && this.releasing > 0) await this.tail;
    const index = this.free.pop();
    if (index === undefined) throw new Error(`all ${this.options.slots} slots are in use`);
    const geometry = { index, stride: this.options.sequencesPerSlot, width, contextSize, runs: !this.pinned && shared.capabilities.rowRuns !== undefined };
    const slot = new SlotSession(this, shared, geometry, (clearCells) => this.release(slot, index, clearCells));
    this.held.add(slot);
    return slot;
  }

  /** Evaluates every part in one backend pass (more when they exceed its batch size); rows come back per part. */
  evaluateTogether(parts: readonly SlotPass[]): Promise<LogitRows[]> {
    if (this.alone(parts)) return this.evaluateAlone(parts[0]);
    for (const p of parts) this.slot(p.session).validate(p.batch);
    return this.merger.mergeNow(this, parts);
  }

  /**
   * Whether a pass is one slot's alone, in a model of one slot with nothing else scheduled: its sequences are the
   * shared session's own (slot 0 starts at sequence 0) and no other pass can be ordered around it, so it goes to
   * the shared session as it is. A step of a lone generation then costs what a pass of the session costs, without
   * the merging's bookkeeping (about 0.1 ms a step on a 2-core CPU, where a decode costs 1.5).
   */
  private alone(parts: readonly SlotPass[]): boolean {
    return this.options.slots === 1 && parts.length === 1 && !this.merger.holds(this) && this.settledShared !== undefined;
  }

  /**
   * The target's own next tokens, `steps` of them, in one backend call (a greedy run, or a sampled one with the
   * given sampler's draws), after a lone slot's batch: what a step that drafts nothing decodes token by token,
   * without a return to JavaScript between the tokens. Only where canRunAlone says so.
   */
  async runAlone(part: SlotPass, steps: number, sampler?: RunSampler): Promise<TokenId[]> {
    const run = this.loneRun(part, sampler);
    if (!run) throw new Error("this pass cannot run alone");
    this.slot(part.session);
    const tokens = await this.after(() => run(part.batch, steps));
    this.passes += steps;
    return tokens;
  }

  /** Whether a lone slot's pass can be a run (runAlone): one slot, nothing else scheduled, a backend that runs. */
  canRunAlone(part: SlotPass, sampled: boolean): boolean {
    const capabilities = this.loneCapabilities(part);
    return (sampled ? capabilities?.sampledRuns : capabilities?.greedyRuns) !== undefined;
  }

  /** The shared session's run for a lone slot's pass (sampled with `sampler`, else greedy); undefined where canRunAlone says no. */
  private loneRun(part: SlotPass, sampler: RunSampler | undefined): ((batch: readonly BatchToken[], steps: number) => Promise<TokenId[]>) | undefined {
    const capabilities = this.loneCapabilities(part);
    if (sampler) {
      const runs = capabilities?.sampledRuns;
      return runs && (async (batch, steps) => (await runs.continueSampled(batch, steps, sampler)).tokens);
    }
    const runs = capabilities?.greedyRuns;
    return runs && (async (batch, steps) => (await runs.continueGreedy(batch, steps, "argmax")).tokens);
  }

  /** The shared session's capabilities where a pass is one slot's alone (see alone). */
  private loneCapabilities(part: SlotPass): SessionCapabilities | undefined {
    return this.alone([part]) ? this.settledShared?.capabilities : undefined;
  }

  private async evaluateAlone(part: SlotPass): Promise<LogitRows[]> {
    this.slot(part.session);
    const rows = await this.after(() => this.settledShared!.evaluate(part.batch));
    this.passes++;
    return [rows];
  }

  /**
   * Runs one slot's prompt prefill in a pass of its own: a prefill is run in the same shape by every generation
   * of its prompt (EvaluateOptions), which a pass merged with other slots' batches would not be.
   */
  async prefillAlone(session: ModelSession, batch: readonly BatchToken[]): Promise<LogitRows> {
    const [rows] = await this.schedule([{ session, batch }], { prefill: true });
    return rows;
  }

  /** One slot's batch (validated), merged with the other slots' at the merger's next merge. */
  enqueue(session: ModelSession, batch: readonly BatchToken[]): Promise<LogitRows> {
    return this.merger.evaluate(this, { session, batch });
  }

  /** One slot's greedy run, merged with the other slots' runs at the merger's next merge. */
  enqueueRun(session: ModelSession, batch: readonly BatchToken[], steps: number, summary: RunSummaryKind | undefined): Promise<GreedyRun> {
    checkRunBatch(batch);
    const slot = this.slot(session);
    return this.merger.run(this, { batch: slot.toShared(batch), steps, release: (from: number) => slot.removeRange(0, from) }, summary);
  }

  dispose(): void {
    const shared = this.shared;
    this.shared = undefined;
    this.settledShared = undefined;
    shared?.then((s) => s.dispose()).catch(() => undefined);
  }

  private sharedSession(): Promise<ModelSession> {
    this.shared ??= this.openShared().then((s) => {
      this.settledShared = s;
      return s;
    });
    return this.shared;
  }

  private async openShared(): Promise<ModelSession> {
    const { slots, sequencesPerSlot } = this.options;
    const { rowSummary, batchInvariant } = this.options;
    if (slots === 1) return this.model.createSession({ contextSize: this.options.contextSize, maxSequences: sequencesPerSlot, rowSummary, batchInvariant });
    const region = this.slotContext();
    const session = await this.model.createSession({
      contextSize: PinnedCells.cellsNeeded(slots, region, CELLS_PER_SLOT_MARGIN),
      maxSequences: PinnedCells.sequencesNeeded(slots, sequencesPerSlot),
      rowSummary,
      batchInvariant,
    });
    // Fixed cells keep a request's numbers from depending on the other slots only where the pass's size cannot.
    const { passNumerics, cellLending } = session.capabilities;
    const pin = this.options.pinCells ?? !passNumerics.passSizeMatters;
    if (pin && cellLending) this.pinned = new PinnedCells(session, cellLending, slots, sequencesPerSlot, region);
    return session;
  }

  /** Each slot's context: as asked, else the model's default context (the whole session's, for one slot). */
  private slotContext(shared?: ModelSession): number {
    if (this.options.contextSize !== undefined) return this.options.contextSize;
    return this.options.slots === 1 && shared ? shared.contextSize : Math.min(this.trainContextSize, DEFAULT_CONTEXT_SIZE);
  }

  /** A slot gives cells of its chain back: to its placeholder when cells are pinned, else freed. */
  releaseCells(shared: ModelSession, slot: number, from: number, to: number | undefined): void {
    const chain = slot * this.options.sequencesPerSlot;
    if (this.pinned) this.pinned.release(slot, from, to ?? shared.sequenceLength(chain));
    else shared.removeRange(chain, from, to);
  }

  /** Runs validated parts after the passes already scheduled. */
  private schedule(parts: readonly SlotPass[], options?: EvaluateOptions): Promise<LogitRows[]> {
    return this.after(() => this.evaluateNow(parts, options));
  }

  /** Starts a job on the shared session once the ones before it are done. */
  private after<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(job);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Evaluates slots' batches (validated) in one backend pass after the ones scheduled (MergeSink). */
  evaluateParts(parts: readonly SlotPass[]): Promise<LogitRows[]> {
    return this.schedule(parts);
  }

  /** Runs slots' greedy runs of one summary kind in one backend call after the ones scheduled (MergeSink). */
  runParts(parts: readonly RunPart[], summary: RunSummaryKind | undefined): Promise<GreedyRun[]> {
    return this.after(async () => {
      const shared = await this.sharedSession();
      const rowRuns = shared.capabilities.rowRuns;
      if (!rowRuns) throw new Error("the shared session cannot run several rows at once");
      const runs = await runTogether(shared, rowRuns, parts, summary);
      this.passes += packParts(parts, shared.batchSize).length;
      return runs;
    });
  }

  private async evaluateNow(parts: readonly SlotPass[], options?: EvaluateOptions): Promise<LogitRows[]> {
    const shared = await this.sharedSession();
    const mapped = parts.map((p) => ({ slot: this.slot(p.session).index, batch: this.slot(p.session).toShared(p.batch) }));
    const { rows, passes } = await evaluateMerged(shared, this.pinned, mapped, options);
    this.passes += passes;
    return rows;
  }

  private slot(session: ModelSession): SlotSession {
    if (!(session instanceof SlotSession) || !this.held.has(session)) throw new Error("the session is not a live slot of this shared model");
    return session;
  }

  /** Clears a given-back slot's cells after the passes scheduled (the shared session may be busy now), then frees its place. */
  private release(slot: SlotSession, index: number, clearCells: () => void): void {
    this.held.delete(slot);
    this.releasing++;
    // Its place is free only once its cells are: where clearing fails (the shared session was disposed meanwhile),
    // the place stays taken, and nothing waits on the failure.
    this.after(async () => {
      try {
        clearCells();
        this.pinned?.shrink();
        this.free.push(index);
      } finally {
        this.releasing--;
      }
    }).catch(() => undefined);
  }
}
