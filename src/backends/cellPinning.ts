/**
 * Fixed cache cells for slots that share one llama.cpp cache, so that concurrency cannot change a request's
 * numbers. llama.cpp's attention visits a sequence's cells in cell order, and its results depend on that
 * order (measured on the embedded target: up to 0.11 in a logit when a token lands in a freed cell before
 * its sequence's earlier cells, exactly 0 when other sequences' cells are merely interleaved). llama.cpp
 * puts new tokens into the lowest free cells, so with many slots a token would land in another request's
 * freed cell. Here every slot owns a region of cells, one per position: cell s*C + p holds position p of
 * slot s. A cell not in use by the slot's chain sequence is held by the slot's placeholder sequence, so it
 * is never free, except right before a pass, when exactly the cells of the pass's tokens are freed, in
 * region order, and the pass lists its tokens in that order. Tree alternatives (transient, at positions
 * the chain also uses) go to scratch cells after every region and are freed after each step.
 */
import type { BatchToken, ModelSession } from "./languageModel.js";

/** A session that can lend cells between sequences (llama.cpp's). */
export type LendingSession = ModelSession & Required<Pick<ModelSession, "copyRange">>;

export function canPin(session: ModelSession): session is LendingSession {
  return typeof session.copyRange === "function";
}

/** Token id the placeholder cells are computed with (any valid token: nobody attends to them). */
const PLACEHOLDER_TOKEN = 0;

export class PinnedCells {
  constructor(
    private readonly session: LendingSession,
    private readonly slots: number,
    /** Sequences per slot (its chain is the first); the placeholders come after all of them. */
    private readonly width: number,
    /** Cells (positions) per slot region. */
    readonly regionSize: number,
  ) {}

  /** Sequences the shared session needs: every slot's, then one placeholder per slot. */
  static sequencesNeeded(slots: number, width: number): number {
    return slots * (width + 1);
  }

  /** Cells the shared session needs: the regions, then scratch for tree alternatives. */
  static cellsNeeded(slots: number, regionSize: number, scratchPerSlot: number): number {
    return slots * (regionSize + scratchPerSlot);
  }

  /** Fills every region with its placeholder, in order, so that cell s*C + p holds position p of slot s. */
  async fill(): Promise<void> {
    const batchSize = this.session.batchSize;
    for (let s = 0; s < this.slots; s++) {
      for (let p = 0; p < this.regionSize; p += batchSize) {
        const n = Math.min(batchSize, this.regionSize - p);
        const seq = this.placeholder(s);
        await this.session.evaluate(Array.from({ length: n }, (_, i) => ({ token: PLACEHOLDER_TOKEN, position: p + i, sequences: [seq], logits: false })));
      }
    }
  }

  /** Gives cells [from, to) of a slot's chain sequence back to its placeholder (instead of freeing them). */
  release(slot: number, from: number, to: number): void {
    if (to <= from) return;
    const chain = slot * this.width;
    this.session.copyRange(chain, this.placeholder(slot), from, to);
    this.session.removeRange(chain, from, to);
  }

  /**
   * Orders a pass (every part already mapped to shared sequence ids): each slot's region tokens in slot
   * order, then every scratch token; frees exactly the region cells the pass will fill. Returns the merged
   * batch and, per part, the merged indices of its tokens.
   */
  arrange(parts: readonly { slot: number; batch: readonly BatchToken[] }[]): { merged: BatchToken[]; indexOf: number[][] } {
    const region: { part: number; i: number }[] = [];
    const scratch: { part: number; i: number }[] = [];
    const order = parts.map((p, part) => ({ p, part })).sort((a, b) => a.p.slot - b.p.slot);
    for (const { p, part } of order) {
      const chain = p.slot * this.width;
      p.batch.forEach((t, i) => (t.sequences.includes(chain) ? region : scratch).push({ part, i }));
      this.freeRegionCells(
        p.slot,
        p.batch.filter((t) => t.sequences.includes(chain)).map((t) => t.position),
      );
    }
    const merged: BatchToken[] = [];
    const indexOf = parts.map((p) => new Array<number>(p.batch.length));
    for (const { part, i } of [...region, ...scratch]) {
      indexOf[part][i] = merged.length;
      merged.push(parts[part].batch[i]);
    }
    return { merged, indexOf };
  }

  private freeRegionCells(slot: number, positions: number[]): void {
    const sorted = [...positions].sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; ) {
      let j = i + 1;
      while (j < sorted.length && sorted[j] === sorted[j - 1] + 1) j++;
      this.session.removeRange(this.placeholder(slot), sorted[i], sorted[j - 1] + 1);
      i = j;
    }
  }

  private placeholder(slot: number): number {
    return this.slots * this.width + slot;
  }
}
