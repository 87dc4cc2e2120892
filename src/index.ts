/** verispec's public API. */

export { type LlamaCppLoadOptions, LlamaCppModel, ModelFileError } from "./backends/llamaCpp/llamaCppModel.js";
export { openLlamaCppModel } from "./backends/llamaCpp/openModel.js";
export { parseRpcEndpoints, RpcServerError } from "./backends/llamaCpp/rpc/rpcEndpoints.js";
export { type RpcServerHandle, type RpcServerOptions, startRpcServer } from "./backends/llamaCpp/rpc/rpcServer.js";
export { ProcessModel, type ProcessModelOptions } from "./backends/llamaCpp/worker/processModel.js";
export { CharacterVocabulary } from "./backends/ngram/characterVocabulary.js";
export { NgramModel } from "./backends/ngram/ngramModel.js";
export type { GenerationRequest } from "./decoding/generationRequest.js";
export { QueueFullError, type SchedulerOptions, SpeculativeScheduler } from "./decoding/scheduler.js";
export { generateSpeculative, type SpeculativeOptions } from "./decoding/speculativeLoop.js";
export { generateTargetOnly } from "./decoding/targetOnly.js";
export {
  DEFAULT_FREE_MIN_MATCH,
  type DraftedToken,
  type Drafter,
  type DrafterCapabilities,
  type DraftRuns,
  type FreeDrafter,
  PLAIN_DRAFTER,
  type SourceChoice,
  type SourceNaming,
  type TargetOutputs,
  type TargetReading,
} from "./drafters/drafter.js";
export { createDrafter, DEFAULT_FREE_SOURCES } from "./drafters/drafterRegistry.js";
export { ModelDrafter } from "./drafters/modelDrafter.js";
export { MultiSourceDrafter } from "./drafters/multiSourceDrafter.js";
export { PromptLookupDrafter } from "./drafters/promptLookupDrafter.js";
export { SuffixCorpus } from "./drafters/suffixCorpus.js";
export { SuffixDrafter } from "./drafters/suffixDrafter.js";
export type { FinishReason, GenerationOptions, StepEvent } from "./generation/generationTypes.js";
export { PromptError } from "./generation/prompt.js";
export { EMBED_PRESETS, type EmbedShape, embedTarget } from "./gguf/embedTarget.js";
export { readGgufHeader } from "./gguf/ggufReader.js";
export { writeGguf } from "./gguf/ggufWriter.js";
export { writeRandomLlamaPair } from "./gguf/randomLlama.js";
export { collectGeneration, type GenerationMetrics, generationMetrics } from "./metrics/generationMetrics.js";
export type { LogitRows, RowSummary } from "./model/rows.js";
export type { BatchToken, LanguageModel, ModelCallStats, ModelSession, SessionOptions } from "./model/session.js";
export type { TokenId, Vocabulary } from "./model/vocabulary.js";
export { checkCompatibleVocabularies, VocabularyMismatchError } from "./model/vocabularyCompatibility.js";
export { AdaptiveMemory } from "./policies/adaptiveMemory.js";
export { AdaptivePolicy } from "./policies/adaptivePolicy.js";
export { ChainPolicy } from "./policies/chainPolicy.js";
export type { DraftPolicy } from "./policies/draftPolicy.js";
export { HeuristicPolicy } from "./policies/heuristicPolicy.js";
export { createPolicy, POLICY_NAMES } from "./policies/policyRegistry.js";
export { GREEDY, type SamplingSettings, samplingFrom } from "./sampling/samplingSettings.js";
export { DenseDistribution, PointDistribution, SummarizedDistribution, type TokenDistribution } from "./sampling/tokenDistribution.js";
export { chatTemplateFor, chatTemplateFrom } from "./server/chatTemplate.js";
export { type ServerOptions, VerispecServer } from "./server/httpServer.js";
export { type EngineOptions, ServingEngine } from "./server/servingEngine.js";
export { PassMerger } from "./slots/passMerger.js";
export { SharedModel, type SharedModelOptions } from "./slots/sharedModel.js";
export { acceptGreedy } from "./verification/greedyAcceptance.js";
export { acceptSampled, residual } from "./verification/speculativeSampling.js";
