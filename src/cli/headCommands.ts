/** `verispec collect` (training data for the acceptance head) and `verispec train-head`. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Command, Option } from "commander";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { readPromptFile } from "../bench/promptFile.js";
import { SETTING_RANGES } from "../generation/settingRanges.js";
import { FEATURE_NAMES } from "../policies/acceptanceScorer.js";
import { samplingFrom } from "../sampling/samplingSettings.js";
import { calibrationReport } from "../tools/headTraining/calibration.js";
import { collectExamples } from "../tools/headTraining/featureCollection.js";
import { predictAll, type TrainingExample, trainHead } from "../tools/headTraining/headTraining.js";
import { createDrafter, loadModelPair } from "./modelPair.js";
import { inRange, positiveInteger } from "./optionParsers.js";

const COLUMNS = ["prompt", "step", ...FEATURE_NAMES, "accepted", "greedyAccept", "acceptProb"];
/** Prompts whose index is 4 mod 5 are held out (20%). */
export const isHeldOut = (prompt: number) => prompt % 5 === 4;

interface CollectFlags {
  target?: string;
  draft?: string;
  prompts: string;
  limit?: number;
  out: string;
  k: number;
  maxTokens: number;
  temperature: number;
  seed: number;
  threads?: number;
}

async function runCollect(f: CollectFlags): Promise<void> {
  const prompts = readPromptFile(f.prompts)
    .slice(0, f.limit)
    .map((p) => p.trimEnd());
  const sampling = samplingFrom({ temperature: f.temperature, seed: f.seed });
  const pair = await loadModelPair({ target: f.target, draft: f.draft, threads: f.threads }, true);
  writeFileSync(f.out, stringify([COLUMNS]));
  let rows: (string | number)[][] = [];
  let total = 0;
  try {
    await collectExamples(
      pair.target,
      () => createDrafter(pair, { sampling }),
      prompts,
      { k: f.k, maxTokens: f.maxTokens, sampling },
      (e) => {
        rows.push([e.prompt, e.step, ...e.features, e.accepted, e.greedyAccept, e.acceptProb]);
        total++;
        if (rows.length >= 1000) {
          writeFileSync(f.out, stringify(rows), { flag: "a" });
          rows = [];
        }
      },
    );
  } finally {
    writeFileSync(f.out, stringify(rows), { flag: "a" });
    pair.dispose();
  }
  process.stderr.write(`wrote ${total} drafted tokens from ${prompts.length} prompts to ${f.out}\n`);
}

interface TrainFlags {
  data: string;
  out: string;
  kind: "logistic" | "mlp";
  report?: string;
  epochs: number;
  hidden: number;
}

function readExamples(file: string): { prompt: number; features: number[]; label: number }[] {
  const records = parse(readFileSync(file, "utf8"), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  if (records.length === 0) throw new Error(`${file} has no examples`);
  const missing = [...FEATURE_NAMES, "acceptProb", "prompt"].filter((c) => !(c in records[0]));
  if (missing.length) throw new Error(`${file} lacks columns ${missing.join(", ")} (write it with verispec collect)`);
  return records.map((r) => ({ prompt: Number(r.prompt), features: FEATURE_NAMES.map((c) => Number(r[c])), label: Number(r.acceptProb) }));
}

async function runTrain(f: TrainFlags): Promise<void> {
  const all = readExamples(f.data);
  const train: TrainingExample[] = all.filter((e) => !isHeldOut(e.prompt));
  const held = all.filter((e) => isHeldOut(e.prompt));
  if (held.length === 0) throw new Error("no held-out examples: collect from at least 5 prompts");
  const head = trainHead(train, { kind: f.kind, epochs: f.epochs, hidden: f.hidden });
  const labels = held.map((e) => (e.label >= 0.5 ? 1 : 0));
  const soft = held.map((e) => e.label);
  const headEval = calibrationReport(
    predictAll(
      head,
      held.map((e) => e.features),
    ),
    soft,
  );
  const qIndex = FEATURE_NAMES.indexOf("q");
  const baseline = calibrationReport(
    held.map((e) => e.features[qIndex]),
    soft,
  );
  head.metrics = {
    heldOutAuc: calibrationReport(
      predictAll(
        head,
        held.map((e) => e.features),
      ),
      labels,
    ).auc,
    heldOutBrier: headEval.brier,
    heldOutEce: headEval.ece,
    baselineQAuc: baseline.auc,
    baselineQBrier: baseline.brier,
  };
  writeFileSync(f.out, `${JSON.stringify(head, null, 1)}\n`);
  const dir = f.report ?? path.dirname(f.out);
  mkdirSync(dir, { recursive: true });
  await (await import("../tools/headTraining/headReport.js")).writeHeadReport(
    dir,
    { heldOutExamples: held.length, trainingExamples: train.length, head: headEval, baselineQ: baseline },
    `${f.kind} head`,
  );
  process.stderr.write(
    `held-out (${held.length} tokens): head AUC ${headEval.auc.toFixed(3)}, Brier ${headEval.brier.toFixed(4)}, ECE ${headEval.ece.toFixed(4)}; q(x) alone AUC ${baseline.auc.toFixed(3)}, Brier ${baseline.brier.toFixed(4)}, ECE ${baseline.ece.toFixed(4)}\nwrote ${f.out} and ${dir}/calibration.json, reliability.svg, reliability.png\n`,
  );
}

export function registerHeadCommands(program: Command): void {
  program
    .command("collect")
    .description("run generations and write each drafted token's features and the target's verdict (CSV) for train-head")
    .option("--target <model>", "target GGUF model (default: the embedded target)")
    .option("--draft <model>", "draft GGUF model (default: the embedded drafter)")
    .requiredOption("--prompts <file>", "prompt file (JSONL with prompt or turns, or text lines)")
    .option("--limit <n>", "use the first n prompts", positiveInteger)
    .requiredOption("--out <file>", "CSV file to write")
    .option("--k <n>", "draft length", inRange(SETTING_RANGES.k), 8)
    .option("--max-tokens <n>", "tokens per generation", inRange(SETTING_RANGES.maxTokens), 128)
    .option("--temperature <t>", "0 for greedy labels; > 0 records min(1, p/q) and the coin flip", inRange(SETTING_RANGES.temperature), 0)
    .option("--seed <s>", "sampling seed", inRange(SETTING_RANGES.seed), 0)
    .option("--threads <n>", "CPU threads", positiveInteger)
    .action(runCollect);
  program
    .command("train-head")
    .description("train the acceptance head on collected data; prompts 4 mod 5 are held out for the calibration report")
    .requiredOption("--data <file>", "CSV written by verispec collect")
    .requiredOption("--out <file>", "head JSON file to write")
    .addOption(new Option("--kind <kind>", "logistic regression or a one-hidden-layer MLP").choices(["logistic", "mlp"]).default("mlp"))
    .option("--hidden <n>", "MLP hidden units", positiveInteger, 16)
    .option("--epochs <n>", "full-batch Adam steps", positiveInteger, 400)
    .option("--report <dir>", "folder for calibration.json and the reliability diagram (default: beside --out)")
    .action(runTrain);
}
