/**
 * A slot of a SharedModel: a ModelSession over sequences base..base+width-1 of the shared session, seen as
 * 0..width-1. Its passes go through the owner (merged with other slots' or run alone); cache edits go straight
 * to the shared session, except the chain's removals, which the owner turns into released cells.
 */
import { validateBatch } from "../backends/batchValidation.js";
import type { FeatureHeadModel } from "../model/head.js";
import type { GreedyRun, LogitRows, RunSummaryKind } from "../model/rows.js";
import type { BatchToken, EvaluateOptions, ModelSession, SessionCapabilities } from "../model/session.js";
import type { Vocabulary } from "../model/vocabulary.js";

/** What a slot needs of the model that owns it (SharedModel). */
export interface SlotOwner {
  /** Queues the slot's batch for the next merged pass. */
  enqueue(session: ModelSession, batch: readonly BatchToken[]): Promise<LogitRows>;
  /** Runs the slot's prompt prefill in a pass of its own. */
  prefillAlone(session: ModelSession, batch: readonly BatchToken[]): Promise<LogitRows>;
  /** Gives back positions [from, to) of the slot's chain. */
  releaseCells(shared: ModelSession, slot: number, from: number, to: number | undefined): void;
  /** Queues the slot's greedy run for the next merged run of every slot's. */
  enqueueRun(session: ModelSession, batch: readonly BatchToken[], steps: number, summary: RunSummaryKind | undefined): Promise<GreedyRun>;
}

/** Where a slot lies in the shared session, and what it offers. */
export interface SlotGeometry {
  index: number;
  /** Sequences between one slot's first and the next's. */
  stride: number;
  /** Sequences the slot uses (its width). */
  width: number;
  contextSize: number;
  /** Whether the slot offers greedy runs (merged with the other slots'). */
  runs: boolean;
}

/** A slot: sequences base..base+width-1 of the shared session, seen as 0..width-1. */
export class SlotSession implements ModelSession {
  readonly maxSequences: number;
  readonly batchSize: number;
  readonly vocabulary: Vocabulary;
  readonly index: number;
  readonly contextSize: number;
  /**
   * The shared session's pass numerics (a slot computes in its passes), and greedy runs merged with the other slots'
   * runs of the same merge (passMerger.ts) where the slot offers runs; a slot lends no cells and runs no rows or samples of its own.
   */
  readonly capabilities: SessionCapabilities;
  private readonly base: number;
  private live = true;

  constructor(
    private readonly owner: SlotOwner,
    private readonly shared: ModelSession,
    geometry: SlotGeometry,
    /** Gives the slot back, with what clears its cells: the owner runs it once no pass of the shared session is in flight. */
    private readonly onRelease: (clearCells: () => void) => void,
  ) {
    this.index = geometry.index;
    this.contextSize = geometry.contextSize;
    this.base = geometry.index * geometry.stride;
    this.maxSequences = geometry.width;
    this.batchSize = shared.batchSize;
    this.vocabulary = shared.vocabulary;
    const greedyRuns = geometry.runs ? { continueGreedy: this.run.bind(this) } : undefined;
    const passNumerics = shared.capabilities.passNumerics;
    // A feature head reads the slot's sequence of the shared session, with a cache of the slot's size (not the session's).
    const heads = shared.capabilities.featureHeads;
    const featureHeads = heads && { attach: (head: FeatureHeadModel, sequence: number) => heads.attach(head, this.id(sequence), this.contextSize) };
    this.capabilities = { passNumerics, greedyRuns, rowRuns: undefined, sampledRuns: undefined, cellLending: undefined, featureHeads };
  }

  private run(batch: readonly BatchToken[], steps: number, summary?: RunSummaryKind): Promise<GreedyRun> {
    this.validate(batch);
    const last = batch[batch.length - 1];
    if (!Number.isInteger(steps) || steps < 1 || last.position + steps - 1 >= this.contextSize)
      throw new RangeError(`a run of ${steps} steps after position ${last.position} does not fit the slot's ${this.contextSize} tokens`);
    return this.owner.enqueueRun(this, batch, steps, summary);
  }

  async evaluate(batch: readonly BatchToken[], options?: EvaluateOptions): Promise<LogitRows> {
    this.validate(batch);
    return options?.prefill ? this.owner.prefillAlone(this, batch) : this.owner.enqueue(this, batch);
  }

  validate(batch: readonly BatchToken[]): void {
    this.checkLive();
    const { batchSize, contextSize, maxSequences } = this;
    validateBatch(batch, { batchSize, contextSize, maxSequences, vocabSize: this.vocabulary.size, sequenceLength: (s) => this.sequenceLength(s) });
  }

  /** The batch with this slot's sequence ids mapped to the shared session's. */
  toShared(batch: readonly BatchToken[]): BatchToken[] {
    this.checkLive();
    return batch.map((t) => ({ ...t, sequences: t.sequences.map((s) => this.base + s) }));
  }

  sequenceLength(sequence: number): number {
    return this.shared.sequenceLength(this.id(sequence));
  }

  removeRange(sequence: number, from: number, to?: number): void {
    if (sequence === 0) this.owner.releaseCells(this.shared, this.index, from, to);
    else this.shared.removeRange(this.id(sequence), from, to);
  }

  copySequence(source: number, destination: number): void {
    this.shared.copySequence(this.id(source), this.id(destination));
  }

  keepOnlySequence(sequence: number): void {
    this.id(sequence);
    for (let s = 0; s < this.maxSequences; s++) if (s !== sequence && this.sequenceLength(s) > 0) this.removeRange(s, 0);
  }

  clear(): void {
    for (let s = 0; s < this.maxSequences; s++) if (this.sequenceLength(s) > 0) this.removeRange(s, 0);
  }

  /**
   * Ends the slot at once; its cells are cleared when the shared session is free: a request may end while other
   * slots' merged pass is on the backend's worker (its planning failed, its client left), when a cache edit would
   * meet a busy context.
   */
  dispose(): void {
    if (!this.live) return;
    this.live = false;
    this.onRelease(() => {
      for (let s = 0; s < this.maxSequences; s++) {
        const sequence = this.base + s;
        if (this.shared.sequenceLength(sequence) === 0) continue;
        if (s === 0) this.owner.releaseCells(this.shared, this.index, 0, undefined);
        else this.shared.removeRange(sequence, 0);
      }
    });
  }

  private id(sequence: number): number {
    this.checkLive();
    if (!Number.isInteger(sequence) || sequence < 0 || sequence >= this.maxSequences)
      throw new RangeError(`sequence ${sequence} is outside this slot's 0..${this.maxSequences - 1}`);
    return this.base + sequence;
  }

  private checkLive(): void {
    if (!this.live) throw new Error("the slot has been released");
  }
}
