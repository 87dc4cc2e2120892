/**
 * Fixed cache cells for slots that share one llama.cpp cache, so that concurrency cannot change a request's
 * numbers. llama.cpp's attention visits a sequence's cells in cell order, and its results depend on that
 * order (measured on the embedded target: up to 0.11 in a logit when a token lands in a freed cell before
 * its sequence's earlier cells, exactly 0 when other sequences' cells are merely interleaved). llama.cpp
 * puts new tokens into the lowest free cells, so with many slots a token would land in another request's
 * freed cell. Here cells are laid out position-major: cell p*S + s holds position p of slot s (S slots), so
 * each slot's cells rise with its positions. A cell below the filled horizon that a slot's chain sequence
 * does not use is held by the slot's placeholder sequence, so it is never free, except right before a pass,
 * when exactly the cells of the pass's tokens are freed and the pass lists its tokens in cell order. The
 * horizon grows (placeholders computed for new rows) as requests get longer and shrinks when they end, so
 * attention never scans much more than S times the longest request. Tree alternatives (transient, at
 * positions the chain also uses) take free cells above the horizon and are freed after each step.
 * The price: every pass attends over S times the horizon's cells and placeholders are computed as it grows
 * (on the H200, 7B cost-equivalent target: a pass of 7 slots' 6-token chains 12.2 ms against 11.4 with free
 * cells; bench/servedPass.ts). Sessions whose logits depend on the pass's size anyway (stock CUDA kernels:
 * SessionCapabilities.passNumerics) gain nothing from it and are not pinned (SharedModel).
 */
import type { BatchToken, CellLending, ModelSession } from "../model/session.js";

/** Token id the placeholder cells are computed with (any valid token: nobody attends to them). */
const PLACEHOLDER_TOKEN = 0;
/** Rows the horizon grows by at a time, and the slack kept when it shrinks. */
const ROWS_PER_GROWTH = 64;
/** Requests that must end without the horizon growing before it may shrink. */
const SHRINK_AFTER_ENDS = 64;

export class PinnedCells {
  /** Rows (positions) whose cells are all held, by a chain or a placeholder. */
  private horizon = 0;
  /** Requests ended since the horizon last grew. */
  private endsSinceGrowth = 0;

  constructor(
    private readonly session: ModelSession,
    /** The session's own cell lending (its SessionCapabilities.cellLending). */
    private readonly lending: CellLending,
    private readonly slots: number,
    /** Sequences per slot (its chain is the first); the placeholders come after all of them. */
    private readonly width: number,
    /** Positions per slot. */
    readonly slotContext: number,
  ) {
    // The growers start wherever the horizon is (see ensureRows).
    lending.allowStartAnywhere();
  }

  /** Sequences the shared session needs: every slot's, then a placeholder and a grower per slot. */
  static sequencesNeeded(slots: number, width: number): number {
    return slots * (width + 2);
  }

  /** Cells the shared session needs: every slot's positions, then scratch for tree alternatives. */
  static cellsNeeded(slots: number, slotContext: number, scratchPerSlot: number): number {
    return slots * (slotContext + scratchPerSlot);
  }

  /**
   * Makes sure rows up to `positions` are held: new rows are computed row by row, slot by slot, into each
   * slot's grower sequence (empty, so it may start at any position, which llama.cpp allows), then handed to
   * the placeholder (whose own positions need not continue: its chain may hold the rows below).
   */
  async ensureRows(positions: number): Promise<void> {
    if (positions <= this.horizon) return;
    const from = this.horizon;
    const to = Math.min(this.slotContext, Math.ceil(positions / ROWS_PER_GROWTH) * ROWS_PER_GROWTH);
    const tokens: BatchToken[] = [];
    for (let p = from; p < to; p++)
      for (let s = 0; s < this.slots; s++) tokens.push({ token: PLACEHOLDER_TOKEN, position: p, sequences: [this.grower(s)], logits: false });
    for (let i = 0; i < tokens.length; i += this.session.batchSize) await this.session.evaluate(tokens.slice(i, i + this.session.batchSize));
    for (let s = 0; s < this.slots; s++) {
      this.lending.copyRange(this.grower(s), this.placeholder(s), from, to);
      this.session.removeRange(this.grower(s), 0);
    }
    this.horizon = to;
    this.endsSinceGrowth = 0;
  }

  /**
   * After a request ends: frees the rows above every slot's chain when the horizon is more than twice what
   * they need and no request has needed it for a while (SHRINK_AFTER_ENDS ends), so that requests of similar
   * lengths do not make it grow and shrink over and over (each growth computes placeholders for every slot).
   */
  shrink(): void {
    if (++this.endsSinceGrowth < SHRINK_AFTER_ENDS) return;
    let longest = 0;
    for (let s = 0; s < this.slots; s++) longest = Math.max(longest, this.session.sequenceLength(s * this.width));
    const keep = 2 * Math.ceil((longest + 1) / ROWS_PER_GROWTH) * ROWS_PER_GROWTH;
    if (this.horizon - keep < 2 * ROWS_PER_GROWTH) return;
    for (let s = 0; s < this.slots; s++) this.session.removeRange(this.placeholder(s), keep, this.horizon);
    this.horizon = keep;
    this.endsSinceGrowth = 0;
  }

  /** Gives cells [from, to) of a slot's chain sequence back to its placeholder (instead of freeing them). */
  release(slot: number, from: number, to: number): void {
    if (to <= from) return;
    const chain = slot * this.width;
    this.lending.copyRange(chain, this.placeholder(slot), from, to);
    this.session.removeRange(chain, from, to);
  }

  /** The highest position a pass's region tokens use, plus one (call ensureRows with it before arranging). */
  rowsNeeded(parts: readonly { slot: number; batch: readonly BatchToken[] }[]): number {
    let rows = 0;
    for (const p of parts) for (const t of p.batch) if (t.sequences.includes(p.slot * this.width)) rows = Math.max(rows, t.position + 1);
    return rows;
  }

  /**
   * Orders a pass (every part already mapped to shared sequence ids): region tokens in cell order, then every
   * scratch token; frees exactly the cells the region tokens will fill. Returns the merged batch and, per
   * part, the merged indices of its tokens.
   */
  arrange(parts: readonly { slot: number; batch: readonly BatchToken[] }[]): { merged: BatchToken[]; indexOf: number[][] } {
    const region: { part: number; i: number; cell: number }[] = [];
    const scratch: { part: number; i: number }[] = [];
    for (const [part, p] of parts.entries()) {
      const chain = p.slot * this.width;
      for (const [i, t] of p.batch.entries()) {
        if (!t.sequences.includes(chain)) scratch.push({ part, i });
        else {
          region.push({ part, i, cell: t.position * this.slots + p.slot });
          this.session.removeRange(this.placeholder(p.slot), t.position, t.position + 1);
        }
      }
    }
    region.sort((a, b) => a.cell - b.cell);
    const merged: BatchToken[] = [];
    const indexOf = parts.map((p) => new Array<number>(p.batch.length));
    for (const { part, i } of [...region, ...scratch]) {
      indexOf[part][i] = merged.length;
      merged.push(parts[part].batch[i]);
    }
    return { merged, indexOf };
  }

  private placeholder(slot: number): number {
    return this.slots * this.width + slot;
  }

  private grower(slot: number): number {
    return this.slots * (this.width + 1) + slot;
  }
}
