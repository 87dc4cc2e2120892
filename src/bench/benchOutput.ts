/** Writes a benchmark's outputs into its folder: summary.json, summary.svg, summary.png and report.html (results.csv is written row by row). */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { bestByTemperature, summarizeRows } from "./benchSummary.js";
import type { BenchRow, BenchSummary } from "./benchTypes.js";

export const OUTPUT_FILES = { csv: "results.csv", json: "summary.json", svg: "summary.svg", png: "summary.png", html: "report.html" };

export function machineDetails(): BenchSummary["machine"] {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/**
 * The commit of the source that ran: `VERISPEC_COMMIT` where the tree travelled without git (the GPU machine),
 * else git's HEAD, marked `-dirty` when tracked files other than docs and results differ from it; `unknown` without either.
 */
export function sourceCommit(): string {
  if (process.env.VERISPEC_COMMIT) return process.env.VERISPEC_COMMIT;
  try {
    const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const head = git("rev-parse", "--short=12", "HEAD");
    return git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!*.md", ":!bench/results") === "" ? head : `${head}-dirty`;
  } catch {
    return "unknown";
  }
}

/**
 * Summarises the rows and writes the summary, then (unless `figures` is false) the figure and the report;
 * returns the summary. The figure libraries load only when figures are drawn, so a machine without them
 * (a GPU machine with Node alone) can run benchmarks and `verispec bench-report` draws them elsewhere.
 */
export async function writeOutputs(dir: string, rows: readonly BenchRow[], meta: Omit<BenchSummary, "variants">, figures = true): Promise<BenchSummary> {
  const variants = summarizeRows(rows);
  const summary: BenchSummary = { ...meta, variants, best: bestByTemperature(variants) };
  writeFileSync(path.join(dir, OUTPUT_FILES.json), `${JSON.stringify(summary, null, 2)}\n`);
  if (!figures) return summary;
  const { renderSvg, summarySpec, svgToPng } = await import("./benchFigures.js");
  const { htmlReport } = await import("./benchReport.js");
  const svg = await renderSvg(summarySpec(summary.variants));
  writeFileSync(path.join(dir, OUTPUT_FILES.svg), svg);
  writeFileSync(path.join(dir, OUTPUT_FILES.png), svgToPng(svg));
  writeFileSync(path.join(dir, OUTPUT_FILES.html), htmlReport(summary, svg));
  return summary;
}
