// Quantizes the embedded pair (models/verispec-target.gguf and verispec-draft.gguf, Q8_0) to K-quants:
//   node scripts/quantizePair.mjs [--types Q4_K_M,Q5_K_M,Q6_K] [--out models/quantized] [--tool verispec-quantize|llama-quantize]
// Each type lands in <out>/<type, lower case>/ (models/quantized/ is git-ignored) with a SHA256SUMS file.
// verispec-quantize (native/tools/quantize.cc, made by every `npm run build:llama -- --backend cpu`) calls the
// function llama-quantize calls, with its defaults; llama-quantize (built with --tools) needs --allow-requantize
// for Q8_0 input and is passed it. The two write byte-identical files. Quantization is deterministic: the
// same source and llama.cpp give the same bytes on every run.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildRoot, root } from "./llamaSource.mjs";

const MODELS = ["verispec-target.gguf", "verispec-draft.gguf"];
const TOOLS = {
  "verispec-quantize": (input, output, type) => [input, output, type],
  "llama-quantize": (input, output, type) => ["--allow-requantize", input, output, type],
};

const { values } = parseArgs({
  options: {
    types: { type: "string", default: "Q4_K_M,Q5_K_M,Q6_K" },
    out: { type: "string", default: path.join(root, "models", "quantized") },
    tool: { type: "string", default: "verispec-quantize" },
  },
});

function fail(message) {
  process.stderr.write(`quantizePair: ${message}\n`);
  process.exit(1);
}

/** The quantizer's path and its arguments for one file. */
function quantizer(name) {
  if (!(name in TOOLS)) fail(`--tool must be one of ${Object.keys(TOOLS).join(", ")}`);
  const program = path.join(buildRoot, "cpu", "bin", name);
  const build = name === "llama-quantize" ? "npm run build:llama -- --backend cpu --tools" : "npm run build:llama -- --backend cpu";
  if (!existsSync(program)) fail(`${path.relative(root, program)} is missing: run \`${build}\` first`);
  return { program, args: TOOLS[name] };
}

/** Quantizes both models to `type` in <out>/<type>/ and writes their SHA-256 sums there. */
function quantizeType(q, type, out) {
  const dir = path.join(out, type.toLowerCase());
  mkdirSync(dir, { recursive: true });
  const sums = [];
  for (const model of MODELS) {
    const output = path.join(dir, model);
    try {
      execFileSync(q.program, q.args(path.join(root, "models", model), output, type), { stdio: ["ignore", "ignore", "pipe"] });
    } catch (error) {
      fail(
        `${model} to ${type}: ${String(error.stderr ?? error.message)
          .trim()
          .split("\n")
          .at(-1)}`,
      );
    }
    sums.push(`${createHash("sha256").update(readFileSync(output)).digest("hex")}  ${model}`);
  }
  writeFileSync(path.join(dir, "SHA256SUMS"), `${sums.join("\n")}\n`);
  console.log(`${type}: ${path.relative(process.cwd(), dir) || "."}\n  ${sums.join("\n  ")}`);
}

const q = quantizer(values.tool);
for (const type of values.types.split(",").filter(Boolean)) quantizeType(q, type.trim().toUpperCase(), path.resolve(values.out));
