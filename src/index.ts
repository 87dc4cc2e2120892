/** verispec's public API. */

export { acceptGreedy } from "./acceptance/greedyAcceptance.js";
export { acceptSampled, residual } from "./acceptance/speculativeSampling.js";
export type { BatchToken, LanguageModel, LogitRows, ModelSession, SessionOptions, TokenId, Vocabulary } from "./backends/languageModel.js";
export { type LlamaCppLoadOptions, LlamaCppModel, ModelFileError } from "./backends/llamaCpp/llamaCppModel.js";
export { openLlamaCppModel } from "./backends/llamaCpp/openModel.js";
export { CharacterVocabulary } from "./backends/ngram/characterVocabulary.js";
export { NgramModel } from "./backends/ngram/ngramModel.js";
export { RecordingModel } from "./backends/recordingModel.js";
export { checkCompatibleVocabularies, VocabularyMismatchError } from "./backends/vocabularyCompatibility.js";
export { generateSpeculative, type SpeculativeOptions } from "./decoding/speculativeLoop.js";
export { generateTargetOnly } from "./decoding/targetOnly.js";
export type { DraftedToken, Drafter } from "./drafters/drafter.js";
export { ModelDrafter } from "./drafters/modelDrafter.js";
export { PromptLookupDrafter } from "./drafters/promptLookupDrafter.js";
export type { FinishReason, GenerationOptions, StepEvent } from "./generation/generationTypes.js";
export { PromptError } from "./generation/prompt.js";
export { readGgufHeader } from "./gguf/ggufReader.js";
export { writeGguf } from "./gguf/ggufWriter.js";
export { writeRandomLlamaPair } from "./gguf/randomLlama.js";
export { collectGeneration, type GenerationMetrics, generationMetrics } from "./metrics/generationMetrics.js";
export { GREEDY, type SamplingSettings, samplingFrom } from "./sampling/samplingSettings.js";
export { ChainPolicy } from "./verifier/chainPolicy.js";
export type { DraftPolicy } from "./verifier/draftPolicy.js";
export { HeuristicPolicy } from "./verifier/heuristicPolicy.js";
export { createPolicy, POLICY_NAMES } from "./verifier/policyRegistry.js";
