/** `verispec serve`: an OpenAI-compatible HTTP server whose concurrent requests share every target pass. */
import { statSync } from "node:fs";
import type { Command } from "commander";
import { resolveModelReference } from "../backends/llamaCpp/modelResolution.js";
import { isModelFreeDrafter, MODEL_FREE_DRAFTERS } from "../drafters/drafterRegistry.js";
import { DEFAULT_CONTEXT_SIZE } from "../model/session.js";
import { chatTemplateFor } from "../server/chatTemplate.js";
import { VerispecServer } from "../server/httpServer.js";
import type { DraftChoice } from "../server/requestParsing.js";
import { ServingEngine } from "../server/servingEngine.js";
import { embeddedModelPaths } from "../util/embeddedModels.js";
import { type ApiKeyFlags, apiKeyFrom } from "./apiKey.js";
import { type LoadedPair, loadModelPair } from "./modelPair.js";
import { finiteNumber, nonNegativeInteger, nonNegativeNumber, port, positiveInteger } from "./optionParsers.js";
import { addPolicyOptions, freeSourcesFrom, type PolicyFlags, policyOptionsWithHead } from "./policyFlags.js";
import { addPlacementOptions, drafterLoadOptions, type PlacementFlags, targetLoadOptions } from "./targetPlacement.js";

/** What loading a serving engine needs from the command line (`serve`, and `bench-serve`'s own server). */
export interface EngineFlags extends PlacementFlags, PolicyFlags {
  target?: string;
  draft?: string;
  parallel: number;
  queue: number;
  context?: number;
  threads?: number;
  modelName?: string;
  suffixCorpus: number;
}

interface ServeFlags extends EngineFlags, ApiKeyFlags {
  host: string;
  port: number;
  timeout?: number;
  shutdownGrace: number;
}

/** The name clients pass as `model`: --model-name, else the target file's name without .gguf. */
function modelId(f: EngineFlags): string {
  const ref = f.target ?? embeddedModelPaths().target;
  return f.modelName ?? (ref.split(/[\\/]/).at(-1) ?? ref).replace(/\.gguf$/i, "");
}

/** What requests draft with unless they choose: the draft model, the drafter named without one, none, or both free sources. */
function defaultDraftOf(pair: LoadedPair, draft: string | undefined): DraftChoice {
  if (pair.draft || pair.head) return "model";
  if (draft === "none") return "none";
  return draft !== undefined && isModelFreeDrafter(draft) ? (draft as DraftChoice) : "ngram";
}

/** Loads the pair and makes the engine; closing the engine frees the models. */
export async function loadEngine(f: EngineFlags): Promise<ServingEngine> {
  const withDraft = f.draft !== "none";
  const pair: LoadedPair = await loadModelPair(
    {
      target: f.target,
      draft: withDraft ? f.draft : undefined,
      threads: f.threads,
      targetPlacement: targetLoadOptions(f, f.threads),
      drafterPlacement: drafterLoadOptions(f, f.threads),
    },
    withDraft && (f.draft !== undefined || f.target === undefined),
  );
  const templateFile = await resolveModelReference(f.target ?? embeddedModelPaths().target);
  const contextSize = f.context ?? Math.min(pair.target.trainContextSize, DEFAULT_CONTEXT_SIZE);
  const engine = new ServingEngine({
    target: pair.target,
    draft: pair.draft,
    head: pair.head,
    defaultDraft: defaultDraftOf(pair, f.draft),
    modelId: modelId(f),
    created: Math.floor(statSync(templateFile).mtimeMs / 1000),
    chatTemplate: chatTemplateFor(templateFile, pair.target.vocabulary),
    parallel: f.parallel,
    maxWaiting: f.queue,
    contextSize,
    policy: f.policy,
    policyOptions: policyOptionsWithHead(f),
    freeSources: freeSourcesFrom(f),
    corpusTokens: f.suffixCorpus,
    samplingRule: f.samplingRule,
    release: () => pair.dispose(),
  });
  return engine;
}

/** The first SIGINT or SIGTERM; a second one then ends the process at once (the signal's default action). */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/**
 * Serves until SIGINT or SIGTERM, then drains (VerispecServer.shutdown: new requests 503, those in flight get the grace
 * period) and exits 0. Models that fail to load, like any error here, end the process with one line and status 1.
 */
async function runServe(f: ServeFlags): Promise<void> {
  const apiKey = apiKeyFrom(f, process.env);
  if (f.host !== "127.0.0.1" && f.host !== "localhost" && f.host !== "::1" && !apiKey)
    process.stderr.write(`verispec: serving on ${f.host} without an API key: anyone who can reach it can use it\n`);
  const engine = loadEngine(f);
  // Seen below; a failed listen must not leave the load's failure unhandled meanwhile.
  engine.catch(() => {});
  const server = new VerispecServer(engine, { host: f.host, port: f.port, apiKey, timeoutMs: f.timeout === undefined ? undefined : f.timeout * 1000 });
  const address = await server.listen();
  process.stderr.write(`verispec: listening on ${address.url} (loading models; /health says 200 when ready)\n`);
  const stop = nextStopSignal();
  const e = await Promise.race([engine, stop.then(() => undefined)]);
  if (e) process.stderr.write(`verispec: ready: model '${e.served.id}', ${f.parallel} slots of ${e.served.contextSize} tokens, policy ${f.policy} k=${f.k}\n`);
  const signal = await stop;
  process.stderr.write(`verispec: ${signal}: shutting down; ${server.requestsInFlight} requests in flight get ${f.shutdownGrace} s to finish\n`);
  await server.shutdown(f.shutdownGrace * 1000);
  process.exit(0);
}

export function registerServe(program: Command): void {
  const command = program
    .command("serve")
    .description("serve the models over an OpenAI-compatible HTTP API (completions, chat, streaming); concurrent requests share every target pass")
    .option("--target <model>", "target GGUF model (default: the embedded target)")
    .option(
      "--draft <model>",
      `draft GGUF model, a drafter without one (${MODEL_FREE_DRAFTERS.join(", ")}), or none (default: the embedded drafter; ngram with a --target of your own)`,
    )
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on (0: any free one)", port, 8080)
    .option("--api-key <key>", "require Authorization: Bearer <key> on every route but /health (default: $VERISPEC_API_KEY, if set)")
    .option("--api-key-file <path>", "the same, the key read from this file (trimmed)")
    .option("--parallel <n>", "requests generating at once (slots)", positiveInteger, 4)
    .option("--queue <n>", "requests that may wait for a slot; more get 429", nonNegativeInteger, 64)
    .option("--context <n>", "context of each slot in tokens (default: the model's, at most 4096)", positiveInteger)
    .option("--timeout <s>", "longest a generation may run, in seconds", finiteNumber)
    .option(
      "--shutdown-grace <s>",
      "on SIGTERM or SIGINT: seconds the requests in flight get to finish (new ones get 503) before the rest end with an error",
      nonNegativeNumber,
      10,
    )
    .option("--threads <n>", "CPU threads (default: physical cores)", positiveInteger)
    .option("--model-name <name>", "the model id clients pass (default: the target file's name)")
    .option(
      "--suffix-corpus <tokens>",
      "keep this many tokens of earlier prompts and outputs, shared by all requests, for suffix drafting: an answer that repeats an earlier one drafts from its start (0: off; a client can then time whether a text was asked before)",
      nonNegativeInteger,
      0,
    );
  addPlacementOptions(addPolicyOptions(command, "adaptive")).action(runServe);
}
