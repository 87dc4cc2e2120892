/** `verispec export-gguf`: writes a trained llama model (safetensors + tokenizer.json) as a GGUF file with verispec's own writer. */
import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { GgmlType } from "../gguf/ggufTypes.js";
import { vocabularyFromTokenizerJson } from "../gguf/hfTokenizer.js";
import { type LlamaConfig, writeLlamaGguf } from "../gguf/llamaGguf.js";
import { readSafetensors } from "../gguf/safetensors.js";
import { positiveInteger } from "./optionParsers.js";

/** The architecture record tools/train/train.py writes into report.json. */
interface TrainedArchitecture {
  dim: number;
  layers: number;
  heads: number;
  ffn: number;
}

interface ExportFlags {
  weights: string;
  tokenizer: string;
  config: string;
  model: string;
  name: string;
  out: string;
  type: "f32" | "f16" | "q8_0" | "q4_0";
  context: number;
}

const TYPES = { f32: GgmlType.F32, f16: GgmlType.F16, q8_0: GgmlType.Q8_0, q4_0: GgmlType.Q4_0 };

function runExport(f: ExportFlags): void {
  const report = JSON.parse(readFileSync(f.config, "utf8")) as Record<string, { config: TrainedArchitecture }>;
  const arch = report[f.model]?.config;
  if (!arch) throw new Error(`${f.config} has no "${f.model}.config" record`);
  const vocab = vocabularyFromTokenizerJson(f.tokenizer);
  const config: LlamaConfig = {
    name: f.name,
    vocabSize: vocab.tokens.length,
    embeddingSize: arch.dim,
    layers: arch.layers,
    heads: arch.heads,
    kvHeads: arch.heads,
    feedForwardSize: arch.ffn,
    contextLength: f.context,
    ropeBase: 10000,
    rmsEpsilon: 1e-5,
    tiedEmbeddings: true,
  };
  const weights = new Map([...readSafetensors(f.weights)].map(([name, t]) => [name, t.values]));
  writeLlamaGguf(f.out, config, vocab, weights, TYPES[f.type]);
  process.stderr.write(`wrote ${f.out} (${f.model}: ${arch.layers} layers, ${arch.dim} wide, ${f.type})\n`);
}

export function registerExport(program: Command): void {
  program
    .command("export-gguf")
    .description("write a model trained by tools/train/train.py as a GGUF file")
    .requiredOption("--weights <file>", "safetensors file with GGUF tensor names")
    .requiredOption("--tokenizer <file>", "Hugging Face tokenizer.json (byte-level BPE)")
    .requiredOption("--config <file>", "report.json written by the training run")
    .requiredOption("--model <key>", "which model of the report: target or draft")
    .requiredOption("--name <name>", "general.name of the model")
    .requiredOption("--out <file>", "GGUF file to write")
    .addOption(new Option("--type <type>", "tensor type of the matrices").choices(Object.keys(TYPES)).default("q8_0"))
    .option("--context <n>", "context length written to the file", positiveInteger, 1024)
    .action(runExport);
}
