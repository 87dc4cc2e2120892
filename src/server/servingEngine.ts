/**
 * What the server generates with: the target behind a scheduler with `parallel` slots and a bounded waiting
 * line, the draft model shared by every request's drafter (its passes merged too), the chat template, and
 * the per-request choices (policy, k, drafter) resolved through the registries. It turns a parsed job into
 * a running generation; HTTP is the caller's business.
 */

import { QueueFullError, SpeculativeScheduler } from "../decoding/scheduler.js";
import type { Drafter } from "../drafters/drafter.js";
import { createDrafter, type DrafterSettings, type DrafterSource } from "../drafters/drafterRegistry.js";
import { SuffixCorpus } from "../drafters/suffixCorpus.js";
import type { StepEvent } from "../generation/generationTypes.js";
import { PromptError, promptTokens } from "../generation/prompt.js";
import type { FeatureHeadModel } from "../model/head.js";
import type { LanguageModel, ModelCallStats } from "../model/session.js";
import type { TokenId } from "../model/vocabulary.js";
import { AdaptiveMemory } from "../policies/adaptiveMemory.js";
import { createPolicy, POLICY_NAMES, type PolicyOptions } from "../policies/policyRegistry.js";
import { DEFAULT_TREE_BUDGET } from "../policies/treePolicy.js";
import { type RulePreference, ruleFor, type SamplingSettings, withRule } from "../sampling/samplingSettings.js";
import { SharedModel } from "../slots/sharedModel.js";
import { ApiError, busy, invalidField } from "./apiErrors.js";
import type { ChatTemplate } from "./chatTemplate.js";
import type { DraftChoice, GenerationJob } from "./requestParsing.js";

export interface EngineOptions {
  target: LanguageModel;
  /** The draft model; without one (or a head), requests draft by prompt lookup or not at all. */
  draft?: LanguageModel;
  /** An EAGLE-3 head instead of a draft model: each request drafts with a head session of its own on its slot. */
  head?: FeatureHeadModel;
  /** The drafter of requests that do not choose; the draft model (or head) when there is one, else none. */
  defaultDraft?: DraftChoice;
  /** The name clients pass as `model`. */
  modelId: string;
  /** When the model was made, in Unix seconds (its file's modification time), for /v1/models; the server's start if unknown. */
  created?: number;
  chatTemplate: ChatTemplate;
  /** Requests generating at once. */
  parallel: number;
  /** Requests that may wait for a slot; more get 429. */
  maxWaiting: number;
  /** Context of each slot, in tokens. */
  contextSize: number;
  /** With the draft model: the sources at no model cost that draft before it (suffix, prompt lookup), and their shortest match. */
  freeSources?: Pick<DrafterSettings, "free" | "freeMinMatch">;
  /**
   * Tokens of earlier requests' prompts and outputs kept for suffix drafting, shared by every request (0 or
   * undefined: none): an answer that repeats an earlier one is drafted from its start.
   */
  corpusTokens?: number;
  /** Policy and k of requests that do not choose (and the policies' other settings). */
  policy: string;
  /** Frees what the engine was given to own (the loaded models), when it closes. */
  release?: () => void;
  /** How sampled requests draw tokens and judge drafted ones (coupled by default). */
  samplingRule?: RulePreference;
  policyOptions: PolicyOptions;
}

/** The served model as clients and logs see it. */
export interface ServedModel {
  id: string;
  /** Unix time the model was made (its file's modification time), if known. */
  created: number | undefined;
  contextSize: number;
  parallel: number;
  policy: string;
  k: number;
  draft: string | undefined;
  chatTemplate: string;
}

/** A generation the server started. */
export interface RunningGeneration {
  promptTokens: number;
  events: AsyncIterable<StepEvent>;
}

export class ServingEngine {
  readonly scheduler: SpeculativeScheduler;
  private readonly drafts: SharedModel | undefined;
  /** Earlier requests' texts for suffix drafting (EngineOptions.corpusTokens). */
  readonly corpus: SuffixCorpus | undefined;

  constructor(private readonly o: EngineOptions) {
    const budget = o.policyOptions.tree?.budget ?? DEFAULT_TREE_BUDGET;
    this.scheduler = new SpeculativeScheduler(o.target, {
      slots: o.parallel,
      sequencesPerSlot: 1 + budget,
      contextSize: o.contextSize,
      maxWaiting: o.maxWaiting,
    });
    this.corpus = o.corpusTokens ? new SuffixCorpus(o.corpusTokens) : undefined;
    this.drafts =
      o.draft &&
      new SharedModel(o.draft, {
        slots: o.parallel,
        sequencesPerSlot: 1,
        contextSize: o.contextSize,
        pinCells: false,
        rowSummary: "top",
        batchInvariant: false,
      });
  }

  /** Checks the job against this server and starts it (`onAdmitted`: when it gets a slot); throws ApiError (400 for bad input, 429 when full). */
  start(job: GenerationJob, signal: AbortSignal, onAdmitted?: () => void): RunningGeneration {
    if (job.model !== this.o.modelId)
      throw new ApiError(
        400,
        `the model '${job.model}' is not served here; this server has '${this.o.modelId}'`,
        "invalid_request_error",
        "model",
        "model_not_found",
      );
    const prompt = this.prompt(job);
    const context = this.o.contextSize;
    if (prompt.length + 1 > context)
      throw invalidField("prompt", `the prompt has ${prompt.length} tokens but the context holds ${context} (with room for 1 more needed)`);
    if (job.maxTokens !== undefined && job.maxTokens > context)
      throw invalidField("max_tokens", `max_tokens ${job.maxTokens} is over the context of ${context} tokens`);
    const policy = this.policy(job);
    const drafter = this.drafter(job.draft, job);
    try {
      const events = this.scheduler.submit({
        prompt,
        drafter,
        releaseDrafter: true,
        policy,
        sampling: this.sampling(job),
        maxTokens: job.maxTokens ?? context - prompt.length,
        stop: job.stop,
        signal,
        onAdmitted,
      });
      return { promptTokens: prompt.length, events };
    } catch (error) {
      drafter?.dispose();
      if (error instanceof QueueFullError) throw busy(`the server is busy: ${error.message}; retry later`);
      throw error;
    }
  }

  /** What the server says of the model it serves (/v1/models, the ready line). */
  get served(): ServedModel {
    const o = this.o;
    return {
      id: o.modelId,
      created: o.created,
      contextSize: o.contextSize,
      parallel: o.parallel,
      policy: o.policy,
      k: o.policyOptions.k,
      draft: (o.head ?? o.draft)?.name,
      chatTemplate: o.chatTemplate.kind,
    };
  }

  /** Head sessions open now (one per request drafting with the head), where the server drafts with a head. */
  headSessions(): number | undefined {
    return this.o.head?.openSessions;
  }

  /** The native time split of the target's and the draft model's calls so far (where the backend keeps one). */
  modelCallStats(): { target: ModelCallStats | undefined; draft: ModelCallStats | undefined } {
    return { target: this.o.target.callStats?.(), draft: this.o.draft?.callStats?.() };
  }

  async close(): Promise<void> {
    await this.scheduler.close();
    this.drafts?.dispose();
    this.o.release?.();
  }

  /** What adaptive requests have measured on this server's pair and device, shared by the requests after them. */
  private readonly adaptiveMemory = new AdaptiveMemory();

  private prompt(job: GenerationJob): TokenId[] {
    if ("messages" in job.input) return this.o.chatTemplate.tokens(job.input.messages);
    const p = job.input.prompt;
    const size = this.o.target.vocabulary.size;
    if (Array.isArray(p) && p.some((t) => t >= size)) throw invalidField("prompt", `token ids must be below the vocabulary size ${size}`);
    try {
      return promptTokens(this.o.target.vocabulary, p);
    } catch (error) {
      if (error instanceof PromptError) throw invalidField("prompt", error.message);
      throw error;
    }
  }

  private policy(job: GenerationJob) {
    const name = job.policy ?? this.o.policy;
    if (!POLICY_NAMES.includes(name)) throw invalidField("verispec.policy", `unknown policy '${name}'; known policies: ${POLICY_NAMES.join(", ")}`);
    return createPolicy(name, { ...this.o.policyOptions, k: job.k ?? this.o.policyOptions.k, adaptiveMemory: this.adaptiveMemory });
  }

  /** A job's sampling settings under the server's sampled rule. */
  private sampling(job: GenerationJob): SamplingSettings {
    return withRule(job.sampling, ruleFor(this.o.samplingRule ?? "auto", job.seeded));
  }

  /** What a request's drafter drafts with: the head or the shared draft model for "model", else the drafter named. */
  private draftSource(use: Exclude<DraftChoice, "none">): DrafterSource {
    if (use !== "model") return { name: use };
    if (this.o.head) return { head: this.o.head };
    if (!this.drafts) throw invalidField("verispec.draft", "this server has no draft model (try 'prompt-lookup' or 'none')");
    return { model: this.drafts };
  }

  private drafter(choice: DraftChoice | undefined, job: GenerationJob): Drafter | undefined {
    const use = choice ?? this.o.defaultDraft ?? (this.drafts || this.o.head ? "model" : "none");
    if (use === "none") return undefined;
    return createDrafter(this.draftSource(use), this.o.target, {
      sampling: this.sampling(job),
      contextSize: this.o.contextSize,
      ...this.o.freeSources,
      corpus: this.corpus,
      sharedModel: true,
    });
  }
}
