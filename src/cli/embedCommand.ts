/** `verispec embed-target`: writes a small llama model inside a big llama shape (zeros elsewhere): its text at the big model's cost. */
import { type Command, InvalidArgumentError } from "commander";
import { embedHead } from "../gguf/embedHead.js";
import { EMBED_PRESETS, type EmbedShape, embedTarget } from "../gguf/embedTarget.js";
import { positiveInteger } from "./optionParsers.js";

interface EmbedFlags {
  source: string;
  out?: string;
  shape?: string;
  layers?: number;
  width?: number;
  ffn?: number;
  head?: string;
  headOut?: string;
}

function preset(value: string): string {
  if (!(value in EMBED_PRESETS)) throw new InvalidArgumentError(`expected one of ${Object.keys(EMBED_PRESETS).join(", ")}, got "${value}"`);
  return value;
}

function shapeFrom(f: EmbedFlags): EmbedShape {
  const base = f.shape ? EMBED_PRESETS[f.shape] : undefined;
  const layers = f.layers ?? base?.layers;
  const width = f.width ?? base?.width;
  const ffn = f.ffn ?? base?.ffn;
  if (layers === undefined || width === undefined || ffn === undefined) throw new RangeError("give --shape, or all of --layers, --width and --ffn");
  return { layers, width, ffn };
}

function runEmbed(f: EmbedFlags): void {
  const shape = shapeFrom(f);
  if ((f.head === undefined) !== (f.headOut === undefined)) throw new RangeError("give --head and --head-out together");
  if (f.out === undefined && f.headOut === undefined) throw new RangeError("give --out (the target), or --head and --head-out (the head alone), or both");
  const start = performance.now();
  if (f.out !== undefined) {
    const bytes = embedTarget(f.source, f.out, shape);
    process.stderr.write(
      `wrote ${f.out}: ${shape.layers} layers x ${shape.width} wide, ffn ${shape.ffn}, ${(bytes / 2 ** 30).toFixed(2)} GiB of tensors in ${((performance.now() - start) / 1000).toFixed(1)} s. ` +
        "It generates the source model's text at the cost of that shape (a cost-equivalent target: label it so wherever it is used).\n",
    );
  }
  if (f.head && f.headOut) {
    const headBytes = embedHead(f.head, f.headOut, shape);
    process.stderr.write(`wrote ${f.headOut}: the EAGLE-3 head ${shape.width} wide, ${(headBytes / 2 ** 20).toFixed(1)} MiB of tensors, for that target.\n`);
  }
}

export function registerEmbed(program: Command): void {
  program
    .command("embed-target")
    .description("write a llama GGUF model inside a larger llama shape whose extra weights are zero: the same text at a large model's cost")
    .requiredOption("--source <file>", "the small llama GGUF model")
    .option("--out <file>", "the GGUF file to write (may be left out with --head-out: the head alone, for a target written before)")
    .option(
      "--shape <preset>",
      `a preset shape: ${Object.entries(EMBED_PRESETS)
        .map(([k, s]) => `${k} (${s.layers}x${s.width}, ffn ${s.ffn})`)
        .join(", ")}`,
      preset,
    )
    .option("--layers <n>", "layers (overrides the preset)", positiveInteger)
    .option("--width <n>", "embedding width, a multiple of the head size (overrides the preset)", positiveInteger)
    .option("--ffn <n>", "feed-forward width (overrides the preset)", positiveInteger)
    .option("--head <file>", "an EAGLE-3 head of the source model, to write for the embedded target too (--head-out)")
    .option("--head-out <file>", "where to write that head, as wide as the embedded target")
    .action(runEmbed);
}
