/**
 * What adaptive policies learn and share (AdaptivePolicy): the target's pass cost by size, and per draft
 * source its cost per drafted token, how often the target agrees with it and how rarely to explore it. A
 * memory shared by a bench variant's generations or a server's requests lets each start from what is known.
 */
import type { DraftSource } from "../drafters/drafter.js";
import { type AgreementRecord, AgreementTracker } from "./agreementTracker.js";
import { CostModel, type CostModelRecord, DraftCost, type DraftCostRecord } from "./costModel.js";

/** Steps between explorations of a source that has not paid yet, by default (AdaptivePolicy's exploreEvery). */
export const DEFAULT_EXPLORE_EVERY = 8;

/**
 * What is learnt about one draft source: its cost per drafted token, how often the target agrees with it, and
 * how rarely to explore it while it does not pay (one source paying, such as lookup, says nothing of another).
 */
export interface SourceMemory {
  readonly draft: DraftCost;
  readonly agreement: AgreementTracker;
  /** Steps between explorations while drafting from this source does not pay (see AdaptivePolicy.exploring). */
  exploreGap: number;
  /**
   * Steps since this source last drafted, counted over every generation sharing the memory (a run started
   * from a kept memory goes on counting where the last one stopped, instead of exploring again at its start).
   */
  sinceExplored: number;
}

/** An AdaptiveMemory as plain data, to keep between runs (cli/adaptiveCache.ts). */
export interface AdaptiveMemoryRecord {
  version: typeof RECORD_VERSION;
  pass: CostModelRecord;
  sources: Partial<Record<DraftSource, { draft: DraftCostRecord; agreement: AgreementRecord; exploreGap: number; sinceExplored: number }>>;
}

const RECORD_VERSION = 1;
const DRAFT_SOURCES: readonly DraftSource[] = ["model", "lookup", "suffix"];

export class AdaptiveMemory {
  /** The target's pass cost by pass size (whoever drafted). */
  readonly pass: CostModel;
  private readonly sources = new Map<DraftSource, SourceMemory>();
  /** Steps since any source drafted, over every generation sharing the memory (AdaptivePolicy's PASS_REFRESH). */
  sinceDrafted = 0;

  constructor(pass = new CostModel()) {
    this.pass = pass;
  }

  toRecord(): AdaptiveMemoryRecord {
    const sources: AdaptiveMemoryRecord["sources"] = {};
    for (const [s, m] of this.sources)
      sources[s] = { draft: m.draft.toRecord(), agreement: m.agreement.toRecord(), exploreGap: m.exploreGap, sinceExplored: m.sinceExplored };
    return { version: RECORD_VERSION, pass: this.pass.toRecord(), sources };
  }

  /** The memory a record holds; throws on a record of another version or shape (a cache to ignore). */
  static fromRecord(r: AdaptiveMemoryRecord): AdaptiveMemory {
    if (r?.version !== RECORD_VERSION || typeof r.pass !== "object" || typeof r.sources !== "object")
      throw new Error("not an adaptive memory record of this version");
    const memory = new AdaptiveMemory(CostModel.fromRecord(r.pass));
    for (const s of DRAFT_SOURCES) {
      const m = r.sources[s];
      if (!m) continue;
      const count = (x: number, otherwise: number) => (Number.isInteger(x) && x >= 0 ? x : otherwise);
      memory.sources.set(s, {
        draft: DraftCost.fromRecord(m.draft),
        agreement: AgreementTracker.fromRecord(m.agreement),
        exploreGap: Math.max(1, count(m.exploreGap, DEFAULT_EXPLORE_EVERY)),
        sinceExplored: count(m.sinceExplored, 0),
      });
    }
    return memory;
  }

  /** A step was taken: every source's count since it last drafted goes up, the drafting one's restarts. */
  stepped(drafted: DraftSource | undefined): void {
    this.sinceDrafted = drafted === undefined ? this.sinceDrafted + 1 : 0;
    for (const [s, m] of this.sources) m.sinceExplored = s === drafted ? 0 : m.sinceExplored + 1;
  }

  /** What is known of a draft source (a model's drafts and prompt lookup's differ in cost and acceptance). */
  source(s: DraftSource, exploreEvery = DEFAULT_EXPLORE_EVERY): SourceMemory {
    const known = this.sources.get(s);
    if (known) return known;
    const m = { draft: new DraftCost(), agreement: new AgreementTracker(), exploreGap: exploreEvery, sinceExplored: 0 };
    this.sources.set(s, m);
    return m;
  }
}
