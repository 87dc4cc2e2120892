/** Benchmark prompt files: JSONL with a `prompt` field (HumanEval), JSONL with `turns` (MT-Bench: the first turn), or plain text lines. */
import { existsSync, readFileSync } from "node:fs";

export class PromptFileError extends Error {}

function fromJsonLine(line: string, file: string, n: number): string {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    throw new PromptFileError(`${file}:${n}: the line is not valid JSON`);
  }
  const r = row as { prompt?: unknown; turns?: unknown };
  if (typeof r.prompt === "string") return r.prompt;
  if (Array.isArray(r.turns) && typeof r.turns[0] === "string") return r.turns[0];
  throw new PromptFileError(`${file}:${n}: expected a "prompt" string or a "turns" array`);
}

/** The prompts of a file; .jsonl files are read as JSON lines, anything else as one prompt per non-empty line. */
export function readPromptFile(file: string): string[] {
  if (!existsSync(file)) throw new PromptFileError(`prompt file not found: ${file}`);
  const lines = readFileSync(file, "utf8").split("\n");
  const json = file.endsWith(".jsonl") || file.endsWith(".json");
  const prompts = lines.flatMap((line, i) => (line.trim() === "" ? [] : [json ? fromJsonLine(line, file, i + 1) : line]));
  if (prompts.length === 0) throw new PromptFileError(`prompt file is empty: ${file}`);
  return prompts;
}
