/**
 * Adaptive scheduling: each step's draft length is the one that maximises the
 * expected emitted tokens per second, from what this run has measured:
 *   E(k) = 1 + sum_{i<k} prod_{j<=i} a_j   (a_j: acceptance at position j given the earlier ones, measured)
 *   T(k) = k * t_draft + t_verify(k + 1)   (the cost model)
 * k = 0 (no drafting) is a candidate, so drafting stops when it does not pay;
 * every `exploreEvery` steps at least one token is drafted to keep the
 * estimates fresh. While drafting, each drafted token is kept only if verifying
 * it raises the block's expected tokens per second: with c the cumulative
 * probability that the block up to it is accepted (the calibrated estimate for
 * each q(x), or a loaded scorer's prediction), keep it when
 *   (E + c) / (D + V(n + 2)) >= E / (D + V(n + 1)),
 * E the expected tokens of the block without it, D the drafting already paid,
 * V the measured pass cost. So on a device whose pass cost is flat in its size
 * (a GPU, a target behind network round trips) almost every token is kept, and on
 * one where it is steep (a small CPU) only likely ones. Until the costs are
 * measured, it exits below the fixed `minCumulative` instead.
 * With a scorer loaded, the per-position acceptance a_j of E(k) is the running
 * mean of the scorer's predictions at position j, in place of the bucketed counts.
 *
 * Sources that draft at no model cost (suffix drafting, prompt lookup) show their whole proposal before drafting
 * (SourceChoice.candidates), each token with a confidence that this run calibrates against what the target accepted
 * (AgreementTracker): their length is the prefix of the proposal with the best expected tokens per second, up to
 * `maxFreeK` tokens, and the block goes to whichever source (or none) promises the most. A free source that does
 * not draft a step is still scored against the text that follows (FreeProposalShadow), at no cost.
 */
import type { DraftCandidates, Drafter, DraftSource } from "../drafters/drafter.js";
import { type DraftBlock, draftChain } from "../drafts/draftBlock.js";
import type { AcceptanceScorer } from "./acceptanceScorer.js";
import { AdaptiveMemory, DEFAULT_EXPLORE_EVERY, type SourceMemory } from "./adaptiveMemory.js";
import { BlockRates, type SourceLength } from "./blockRates.js";
import type { CostModel } from "./costModel.js";
import { draftFeatures, RunningAcceptance } from "./draftFeatures.js";
import { type BlockOutcome, checkDraftLength, DEFAULT_DRAFT_LENGTH, type DraftContext, type DraftPolicy } from "./draftPolicy.js";
import { FreeProposalShadow } from "./freeProposalShadow.js";

export interface AdaptiveOptions {
  /** Length used until the costs are measured; DEFAULT_DRAFT_LENGTH (4) by default. */
  initialK?: number;
  /** Longest draft considered from a draft model; 8 by default. */
  maxK?: number;
  /** Longest draft considered from a source at no model cost (suffix, lookup); 64 by default. */
  maxFreeK?: number;
  /** Early exit below this cumulative acceptance estimate; 0.25 by default. */
  minCumulative?: number;
  /** Draft at least one token every this many steps; 8 by default. */
  exploreEvery?: number;
  scorer?: AcceptanceScorer;
  /**
   * What earlier generations with the same pair on the same device measured (costs, acceptance, how rarely to
   * explore), shared by every policy given it: a new request then starts from what is known instead of paying
   * to measure it again. A fresh memory by default.
   */
  memory?: AdaptiveMemory;
}

export const ADAPTIVE_DEFAULTS = { maxK: 8, maxFreeK: 64, minCumulative: 0.25, exploreEvery: DEFAULT_EXPLORE_EVERY };
/** Tokens of a free proposal followed while it drafts nothing (decided within as many steps at most). */
const SHADOW_TOKENS = 8;
/**
 * Tokens of a run (DraftBlock.run): decoded in one call where nothing is worth drafting, so such stretches cost what
 * the target alone costs, without a step's bookkeeping per token; a match that appears within them waits for the
 * run's end (at most 7 tokens, 3 where a free source proposed something already).
 */
const RUN_TOKENS = 8;
/**
 * The longest gap between explorations of a drafter that costs something: once it has not paid for hundreds
 * of steps, in this run or (with a kept memory) the runs before it, opening and catching it up again costs
 * more than it is likely to find. A source that drafts for free (prompt lookup, whose matches come and go
 * with the text) is explored at least every MAX_FREE_EXPLORE_GAP steps.
 */
const MAX_EXPLORE_GAP = 512;
const MAX_FREE_EXPLORE_GAP = 128;
/**
 * While drafting pays, one step in this many drafts nothing, so the price of not drafting stays measured: an
 * estimate left too high (a stall) would otherwise keep drafting going where it does not pay. On a GPU it
 * costs about one block's gain in 32 steps.
 */
const DECODE_REFRESH = 32;
/**
 * When no block has been drafted for this many steps (counted over every generation sharing the memory), a
 * likely free proposal is drafted anyway (its likely prefix: BlockRates.refreshingDraft), so the price of a larger pass stays measured: passes priced too high would otherwise keep
 * every free draft off, and no pass would come to correct them. On the 2-core CPU the first passes of a cold
 * context (2-3 tokens at 2.5-3 decodes each) drew the line so steep that a 17-token pass looked like 25 decodes
 * (it costs about 6), and generation after generation drafted nothing; a long refresh puts a point at the far
 * end of the line, where one short one barely moves it. For the same reason a refresh is due at once while no
 * pass of more than FAR_PASS tokens has been measured.
 */
const PASS_REFRESH = 128;
const FAR_PASS = 9;
/** A source whose drafted token costs at most this share of a decode drafts for free. */
const FREE_DRAFT_SHARE = 0.05;

export class AdaptivePolicy implements DraftPolicy {
  readonly name = "adaptive";
  readonly maxSequences = 1;
  readonly cost: CostModel;
  private readonly memory: AdaptiveMemory;
  /** The source drafting this block. */
  private source: DraftSource = "model";
  private readonly running = new RunningAcceptance();
  private readonly initialK: number;
  private readonly maxFreeK: number;
  private readonly exploreEvery: number;
  /** What a block is worth, from what the memory measured and the shared pass it joins. */
  private readonly rates: BlockRates;
  private steps = 0;
  private previousDrafted = 0;
  /** The last step that drafted nothing (a decode, the price of not drafting, measured). */
  private lastUndrafted = 0;
  /** Moving average of the tokens a step emits here (accepted + bonus), standing in for the others'. */
  private meanEmitted = 1;
  /** Draft lengths chosen so far, for reports. */
  readonly chosen: number[] = [];
  /** Each free source's proposal on a step it does not draft, scored against what is emitted. */
  private readonly shadows = new Map<DraftSource, FreeProposalShadow>();
  /** An exploration's second block is due (see chooseLength). */
  private exploreFollowUp = false;

  constructor(private readonly o: AdaptiveOptions = {}) {
    this.initialK = checkDraftLength(o.initialK ?? DEFAULT_DRAFT_LENGTH);
    const maxK = checkDraftLength(o.maxK ?? ADAPTIVE_DEFAULTS.maxK);
    this.maxFreeK = checkDraftLength(o.maxFreeK ?? ADAPTIVE_DEFAULTS.maxFreeK);
    const minCumulative = o.minCumulative ?? ADAPTIVE_DEFAULTS.minCumulative;
    this.exploreEvery = o.exploreEvery ?? ADAPTIVE_DEFAULTS.exploreEvery;
    this.memory = o.memory ?? new AdaptiveMemory();
    this.cost = this.memory.pass;
    this.rates = new BlockRates(this.cost, this.memory, { maxK, maxFreeK: this.maxFreeK, minCumulative, exploreEvery: this.exploreEvery });
  }

  /** What is known of the source drafting this block. */
  private get current(): SourceMemory {
    return this.memory.source(this.source, this.exploreEvery);
  }

  async draft(drafter: Drafter, limit: number, context: DraftContext): Promise<DraftBlock> {
    this.rates.atStep(context.sharedPass?.tokens ?? 0, (context.sharedPass?.requests ?? 0) * this.meanEmitted);
    // A drafter that offers no choice drafts from its one source, priced as a model's drafts are.
    const { sourceChoice, sourceNaming } = drafter.capabilities;
    const candidates = sourceChoice?.candidates(this.maxFreeK) ?? { free: [], model: true };
    const choice = sourceChoice ? this.choose(candidates, limit) : this.ownSource(sourceNaming?.nextSource() ?? "model");
    this.source = choice.source;
    const k = Math.min(choice.k, limit);
    this.chosen.push(k);
    if (k > 0) sourceChoice?.useSource(choice.source);
    for (const p of candidates.free) if (k === 0 || p.source !== choice.source) this.shadow(p.source).follow(p, SHADOW_TOKENS);
    if (k === 0 && this.mayRun(context) && limit > 0) return { tokens: [], q: [], drawn: [], run: Math.min(this.runLength(candidates), limit + 1) };
    // A free source's length is chosen from its whole proposal; a model's tokens are judged one by one as they come.
    if (candidates.free.some((p) => p.source === choice.source)) return draftChain(drafter, k, context);
    let cumulative = 1;
    let expected = 1;
    return draftChain(drafter, k, context, (block, q, x) => {
      const f = draftFeatures(block, q, x, this.running.rate);
      const estimate = this.o.scorer ? this.o.scorer.predict(f) : this.current.agreement.estimate(f.q);
      if (this.o.scorer) this.rates.recordPrediction(f.position, estimate);
      cumulative *= estimate;
      if (block.tokens.length > 0 && !this.rates.worthVerifying(this.source, block.tokens.length, expected, cumulative)) return "adaptive-confidence";
      expected += cumulative;
      return undefined;
    });
  }

  /**
   * Who drafts this block and how many tokens: the free proposal with the best expected rate where one beats not
   * drafting (and the model's best, where it has measured one), else the model's choice (chooseLength).
   */
  private choose(c: DraftCandidates, limit: number): SourceLength {
    const idle: DraftSource = c.model ? "model" : (c.free[0]?.source ?? "model");
    if (this.steps === 2 && !this.rates.decodeMeasured()) return { source: idle, k: 0 };
    let free: { source: DraftSource; k: number; rate: number } | undefined;
    for (const p of c.free) {
      const f = this.rates.freeLength(p, limit);
      if (f.k > 0 && (!free || f.rate > free.rate)) free = { source: p.source, ...f };
    }
    const modelBetter = free && c.model && this.rates.readyFor("model") && this.rates.bestModelRate() > free.rate;
    if (free && !modelBetter) return this.steps - this.lastUndrafted >= DECODE_REFRESH && this.cost.ready ? { source: idle, k: 0 } : free;
    const due = this.memory.sinceDrafted >= PASS_REFRESH || this.cost.largestMeasured <= FAR_PASS;
    const refresh = !free && this.cost.ready && due ? this.rates.refreshingDraft(c.free, limit) : undefined;
    if (refresh) return refresh;
    return c.model ? this.ownSource("model") : { source: idle, k: 0 };
  }

  private ownSource(source: DraftSource): SourceLength {
    this.source = source;
    return { source, k: this.chooseLength() };
  }

  /** Whether a block that drafts nothing may be a run of the target's own tokens: the costs are known and no other request shares the pass. */
  private mayRun(context: DraftContext): boolean {
    return this.cost.ready && (context.sharedPass?.requests ?? 0) === 0;
  }

  /** A run's length: shorter where a free source proposes something that does not pay yet (it is looked at again sooner). */
  private runLength(c: DraftCandidates): number {
    return c.free.length === 0 ? RUN_TOKENS : RUN_TOKENS / 2;
  }

  private shadow(source: DraftSource): FreeProposalShadow {
    if (!this.shadows.has(source)) this.shadows.set(source, new FreeProposalShadow());
    return this.shadows.get(source)!;
  }

  observe(o: BlockOutcome): void {
    // A run counts as the one-token steps it decoded.
    const decodes = o.decodes ?? 1;
    this.steps += decodes;
    if (o.drafted === 0) this.lastUndrafted = this.steps;
    for (let i = 0; i < decodes; i++) this.memory.stepped(o.drafted > 0 ? this.source : undefined);
    // A block drafted right after one that drafted nothing first catches the drafter up on every token since
    // (a one-off cost, or the prompt on the first step): only blocks that follow a drafted block price drafting.
    // (After another source's block the model catches up on that block's few tokens: a real cost of drafting.)
    if (this.previousDrafted > 0) this.current.draft.record(o.drafted, o.draftMs);
    this.previousDrafted = o.drafted;
    // A generation's first pass pays one-off costs (a fresh context's first decode; on this CPU 22 ms against 7).
    // Nor does a pass that also prefilled another request's prompt: its time is mostly that prefill's.
    if (this.steps > decodes && o.passPrefill === 0) this.cost.recordVerify(decodes > 1 ? 1 : o.passTokens, o.verifyMs / decodes);
    this.current.agreement.record(o.qx, o.accepted);
    for (const [source, shadow] of this.shadows) shadow.observe(o.emitted, this.memory.source(source, this.exploreEvery).agreement);
    this.running.record(o.drafted, o.accepted);
    this.meanEmitted += 0.1 * (o.accepted + 1 - this.meanEmitted);
  }

  /** Whether the pass cost and this block's source's drafting cost have been measured. */
  private get ready(): boolean {
    return this.rates.readyFor(this.source);
  }

  /** Expected tokens emitted by a block of k drafted tokens (the bonus included) from a source (this block's by default). */
  expectedTokens(k: number, source = this.source): number {
    return this.rates.expectedByLength(source, k)[k];
  }

  /** The length with the best expected tokens per second (the initial length, then one of 0, while costs are unknown). */
  chooseLength(): number {
    // Until both costs are measured: two drafted blocks (the second prices drafting), then one pass without
    // drafts, the price of not drafting, unless a pass of its size is known already.
    if (this.steps === 2 && !this.rates.decodeMeasured()) return 0;
    if (!this.ready) return this.initialK;
    const best = this.rates.bestLength(this.source).k;
    if (best > 0 && this.steps - this.lastUndrafted >= DECODE_REFRESH) return 0;
    if (best > 0) return this.drafting(best);
    // Where drafting would pay at the acceptance measured if it cost less, an exploration drafts two blocks in a
    // row: only a block that follows a drafted one prices drafting (the first pays the drafter's catch-up), and a
    // price measured too high (a cold start) would otherwise never be measured again.
    if (this.exploreFollowUp) {
      this.exploreFollowUp = false;
      return 1;
    }
    const k = this.exploring();
    this.exploreFollowUp = k > 0 && this.rates.paysIfDraftingWereFree(this.source);
    return k;
  }

  private drafting(k: number): number {
    this.current.exploreGap = this.exploreEvery;
    return k;
  }

  /** While drafting does not pay: draft one token now and then (catching the drafter up costs), ever more rarely. */
  private exploring(): number {
    const source = this.current;
    if (source.sinceExplored < source.exploreGap) return 0;
    // Doubles each time exploring finds this source still does not pay; back to exploreEvery when it does.
    const free = source.draft.time(1) <= FREE_DRAFT_SHARE * this.rates.passTime(1);
    source.exploreGap = Math.min(source.exploreGap * 2, free ? MAX_FREE_EXPLORE_GAP : MAX_EXPLORE_GAP);
    return 1;
  }
}
