/**
 * A draft block: the chain of tokens a drafter proposes in one step, each with
 * its q, and optionally alternative tokens (siblings) at uncertain positions,
 * which turn the chain into a tree verified in the same target pass.
 */

import type { DraftedToken, Drafter, Drawn } from "../drafters/drafter.js";
import type { TokenId } from "../model/vocabulary.js";
import type { TokenDistribution } from "../sampling/tokenDistribution.js";

/** An alternative to the chain's token at `depth`: a child of the chain token before it (of the root at depth 0). */
export interface Sibling {
  depth: number;
  token: TokenId;
}

export interface DraftBlock {
  tokens: TokenId[];
  /** q[i]: the drafter's distribution at drafted position i. */
  q: TokenDistribution[];
  /** drawn[i]: how tokens[i] came from q[i] (its proposal is one-hot when "argmax"). */
  drawn: Drawn[];
  /** Alternatives at chain positions (a tree); ordered by depth. None for a chain. */
  siblings?: Sibling[];
  /** The verifier stage that stopped drafting early, if one did. */
  cutBy?: string;
  /** Shadow mode: tokens drafted past the cut, verified only to price the cut. */
  shadow?: { tokens: TokenId[]; q: TokenDistribution[] };
  /**
   * A block that drafts nothing may ask for this many of the target's own tokens at once (a run: one backend call
   * decoding them one after the other, as the target alone would), where the backend can run and the request is
   * alone; otherwise it is one step of one token. The policy's way of saying "nothing will be worth drafting for a
   * few tokens".
   */
  run?: number;
}

/** Decides whether a drafted token is worth verifying; returns the name of the stage that cuts it, or undefined to keep it. */
export type DraftFilter = (block: DraftBlock, q: TokenDistribution, token: TokenId) => string | undefined;

/**
 * Where the drafted tokens come from: the whole chain asked for at once (one call for drafters that can) without a
 * verifier filter, or with one where the drafter's runs are shared (a whole run then costs about what stopping
 * at the cut would); else token by token, so that a cut also saves the drafter's calls.
 */
async function tokenSource(drafter: Drafter, length: number, context: ChainDraftContext, filtered: boolean): Promise<() => Promise<DraftedToken | undefined>> {
  const runs = drafter.capabilities.runs;
  if (!runs || (filtered && !runs.runsAreShared)) return () => drafter.next();
  const run = length > 0 ? await runs.nextRun(length, { signals: context.signals }) : [];
  let i = 0;
  return async () => run[i++];
}

/** What chain drafting needs from the step's context (a subset of the policies' DraftContext). */
export interface ChainDraftContext {
  shadow?: boolean;
  /** Whether the policy reads signals from q (RunOptions.signals); true by default. */
  signals?: boolean;
  endsGeneration?: (drafted: readonly TokenId[]) => boolean;
}

/**
 * Drafts up to `length` tokens in a chain. `filter`, when given, is asked about
 * each drafted token before the next is drafted; drafting stops as soon as a
 * stage cuts, which also saves drafter calls. In shadow mode drafting goes on
 * past the cut, into `shadow`, so the price of the cut can be measured.
 * Drafting also stops after a token with which generation would end.
 */
export async function draftChain(drafter: Drafter, length: number, context: ChainDraftContext = {}, filter?: DraftFilter): Promise<DraftBlock> {
  const shadow = context.shadow ?? false;
  const block: DraftBlock = { tokens: [], q: [], drawn: [] };
  const draw = await tokenSource(drafter, length, context, filter !== undefined);
  while (block.tokens.length + (block.shadow?.tokens.length ?? 0) < length) {
    const next = await draw();
    if (!next) break;
    if (block.shadow) {
      block.shadow.tokens.push(next.token);
      block.shadow.q.push(next.q);
      continue;
    }
    const cut = filter?.(block, next.q, next.token);
    if (cut) {
      block.cutBy = cut;
      if (!shadow) break;
      block.shadow = { tokens: [next.token], q: [next.q] };
      continue;
    }
    block.tokens.push(next.token);
    block.q.push(next.q);
    block.drawn.push(next.drawn);
    if (context.endsGeneration?.(block.tokens)) break;
  }
  return block;
}
