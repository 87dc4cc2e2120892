/**
 * A generation request and the state it carries through the scheduler: its context, output, sampling and
 * acceptance settings (with its own rng), constraints, draft policy, drafter, and the slot of the target's
 * cache it owns. Everything a step needs to plan and settle one request's block lives here, so requests
 * sharing a target pass never share mutable state.
 */

import type { Drafter } from "../drafters/drafter.js";
import type { DraftBlock } from "../drafts/draftBlock.js";
import { endsGeneration } from "../generation/generationEnd.js";
import { DEFAULT_MAX_TOKENS, type FinishReason, type GenerationOptions, type StepEvent } from "../generation/generationTypes.js";
import { OutputTracker } from "../generation/outputTracker.js";
import { promptTokens } from "../generation/prompt.js";
import type { ModelSession } from "../model/session.js";
import type { TokenId, Vocabulary } from "../model/vocabulary.js";
import { ChainPolicy } from "../policies/chainPolicy.js";
import type { DraftPolicy, SharedPassLoad } from "../policies/draftPolicy.js";
import { NO_CONSTRAINTS } from "../sampling/constraints.js";
import { GREEDY } from "../sampling/samplingSettings.js";
import { Random } from "../util/random.js";
import type { JudgeSettings } from "../verification/blockVerification.js";
import { acceptMatching, type MatchAcceptanceRule } from "../verification/greedyAcceptance.js";
import { acceptSampled, type SampledAcceptanceRule } from "../verification/speculativeSampling.js";
import { acceptSampledTree, type SampledTreeRule } from "../verification/treeAcceptance.js";
import { EventChannel } from "./eventChannel.js";

export interface SpeculativeOptions extends GenerationOptions {
  /** How each step's draft is shaped; chain with k = 4 by default. */
  policy?: DraftPolicy;
  /** Shadow mode: also verify what the verifier cut, to price each cut (costs drafter work). */
  shadow?: boolean;
  /** The rule for sampled chains; the lossless `acceptSampled` by default (replaceable to study other rules). */
  sampledAcceptance?: SampledAcceptanceRule;
  /** The rule for sampled trees; the lossless `acceptSampledTree` by default. */
  sampledTreeAcceptance?: SampledTreeRule;
  /** The rule for chains judged by match (greedy, and sampling by the coupled rule); the lossless `acceptMatching` by default. */
  matchAcceptance?: MatchAcceptanceRule;
  /** Sees each verified block with the target's (constrained) logits at every chain depth; for collecting training data. */
  inspect?: (v: { context: readonly TokenId[]; block: DraftBlock; logitsAt(depth: number): Float32Array; accepted: number }) => void;
}

/** What a caller submits: a prompt, the drafter that proposes for it (none: the target alone), and its options. */
export interface GenerationRequest extends SpeculativeOptions {
  prompt: string | readonly TokenId[];
  drafter?: Drafter;
  /** Hand the drafter over: the scheduler disposes it when the request ends (else the caller owns it). */
  releaseDrafter?: boolean;
  /** Called when the request leaves the waiting line for a slot (not for one cancelled while waiting). */
  onAdmitted?: () => void;
}

function judgeSettings(options: SpeculativeOptions): JudgeSettings {
  const sampling = options.sampling ?? GREEDY;
  return {
    sampling,
    constraints: options.constraints ?? NO_CONSTRAINTS,
    chainRule: options.sampledAcceptance ?? acceptSampled,
    matchRule: options.matchAcceptance ?? acceptMatching,
    treeRule: options.sampledTreeAcceptance ?? acceptSampledTree,
    rng: sampling.mode === "sample" ? new Random(sampling.seed) : undefined,
  };
}

/** A request admitted to the scheduler (or waiting for a slot). */
export class ActiveRequest {
  /** Prompt and emitted tokens; the target's slot caches all but the last, which opens the next pass. */
  readonly context: TokenId[];
  readonly tracker: OutputTracker;
  readonly judge: JudgeSettings;
  readonly policy: DraftPolicy;
  readonly drafter: Drafter | undefined;
  readonly events = new EventChannel<StepEvent>();
  /** The request's slot of the target's cache, once admitted. */
  session: ModelSession | undefined;
  /** Target calls to report with the next step event (the prefill's go with the first). */
  targetCalls = 0;
  /** What other requests put into the last shared pass. */
  sharedPass: SharedPassLoad = { tokens: 0, requests: 0 };
  /** While it waits for a slot: stops watching its signal (the scheduler's abort listener). */
  stopWaiting: (() => void) | undefined;
  /** Storage for a sampled run's distributions (RunSampler.into), kept from run to run. */
  runDistributions: Float64Array | undefined;

  constructor(
    readonly submitted: GenerationRequest,
    readonly vocabulary: Vocabulary,
  ) {
    this.policy = submitted.policy ?? new ChainPolicy();
    this.drafter = submitted.drafter;
    this.judge = judgeSettings(submitted);
    this.tracker = new OutputTracker(vocabulary, submitted.maxTokens ?? DEFAULT_MAX_TOKENS, submitted.stop);
    this.context = promptTokens(vocabulary, submitted.prompt);
  }

  /** The slot; only admitted requests are planned and settled. */
  get slot(): ModelSession {
    if (!this.session) throw new Error("the request has no slot yet");
    return this.session;
  }

  /** Whether the request should end at the next chance (aborted by its caller, or its reader went away). */
  get cancelled(): boolean {
    return this.events.abandoned || (this.submitted.signal?.aborted ?? false);
  }

  /** The event of a request that ends before any step (aborted while it waited for a slot). */
  endedEvent(finish: FinishReason): StepEvent {
    const text = this.tracker.end(finish).text;
    return { tokens: [], text, drafted: 0, accepted: 0, drafterCalls: 0, targetCalls: 0, draftMs: 0, verifyMs: 0, finish };
  }

  /** Most chain tokens this step may draft: the token budget and the context end leave room for the bonus token. */
  draftLimit(): number {
    const budget = (this.submitted.maxTokens ?? DEFAULT_MAX_TOKENS) - this.tracker.tokens.length - 1;
    return Math.max(0, Math.min(budget, this.slot.contextSize - this.context.length - 1));
  }

  /** Whether generation would end with these drafted tokens (EOS or a completed stop string). */
  endsWith(drafted: readonly TokenId[]): boolean {
    return endsGeneration(this.vocabulary, this.submitted.stop ?? [], this.context, drafted);
  }
}
