// verispec's patches to the bundled llama.cpp source, applied before every build from it (idempotent).
//
// Batch invariance (GGML_BATCH_INVARIANT=1 at run time; without it nothing changes): a token's logits come out
// bit for bit the same whether it is decoded alone or inside a pass over a block, so greedy speculative text
// equals one-token decoding on CUDA too. Stock llama.cpp computes a pass over n tokens with other kernels than a
// one-token decode (matrix-vector kernels whose warps per block depend on n, tensor-core kernels above 8 columns,
// a multi-column flash-attention kernel, KV splits sized by occupancy), and each sums in another order. With the
// variable set:
// - products with quantized weights run the matrix-vector kernel with one warp count for 1 to 16 columns (longer
//   passes in chunks of 16), so each column's dot products are split and summed alike;
// - flash attention runs the vector kernel one column per block with a fixed number of blocks per column's KV
//   cells, each taking every 4th tile in turn: the tiles past the used cells (llama.cpp views a multiple of 256
//   cells that grows with the block's last position) are masked and add only zeros;
// - without flash attention (models it does not support), float products run the float matrix-vector kernel in
//   chunks of 8 columns, and the softmax and value sums one block size whatever the number of cells viewed.
// Graph fusion is off in these passes (llama.cpp fuses only one-token passes), and a CUDA graph recorded with the
// other kernels is not replayed.
//
// On the CPU (llamaPatches/cpu.mjs), the variable turns on ggml-cpu's reference kernels in every backend.
//
// Stock passes: a thread may ask for the stock kernels for its next passes (ggml_backend_cuda_set_stock_pass,
// found through the CUDA backend's get_proc_address; native/invariance.cc). The binding does so for a prompt's
// prefill, which every generation of the prompt runs in the same shape, and for a drafter, whose numbers never
// decide the output: the invariant kernels cost most there (a prefill in chunks of 16 columns).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { attentionPatches } from "./llamaPatches/attention.mjs";
import { cpuPatches } from "./llamaPatches/cpu.mjs";
import { matmulPatches } from "./llamaPatches/matmul.mjs";
import { stockPassPatches } from "./llamaPatches/stockPasses.mjs";

/** [file, find, replace]: find must occur exactly once unless replace is already there; in order within a file. */
export const patches = [...stockPassPatches, ...matmulPatches, ...attentionPatches, ...cpuPatches];

/** The file's text with every patch for it applied; null where a patch neither fits nor is there already. */
function patched(text, file) {
  let out = text;
  for (const p of patches.filter((x) => x.file === file)) {
    if (out.includes(p.replace)) continue;
    const at = out.indexOf(p.find);
    if (at < 0 || out.indexOf(p.find, at + 1) >= 0) return null;
    out = out.slice(0, at) + p.replace + out.slice(at + p.find.length);
  }
  return out;
}

/**
 * Applies every patch to the source tree. In a git checkout each file is patched from its committed text (so an
 * older version of these patches is replaced); elsewhere (the tree sent to the GPU machine) from the text there,
 * where patches already applied are left alone. A patch that does not fit throws before any file is written.
 * Returns the files written.
 */
export function applyPatches(sourceDir) {
  const git = existsSync(path.join(sourceDir, ".git"));
  const changed = [];
  for (const file of new Set(patches.map((p) => p.file))) {
    const full = path.join(sourceDir, file);
    const before = readFileSync(full, "utf8");
    const base = git ? execFileSync("git", ["-C", sourceDir, "show", `HEAD:${file}`], { encoding: "utf8", maxBuffer: 1 << 26 }) : before;
    const after = patched(base, file);
    if (after === null) throw new Error(`verispec's llama.cpp patches do not fit ${file} (scripts/llamaPatches.mjs)`);
    if (after !== before) changed.push([full, after]);
  }
  for (const [full, after] of changed) writeFileSync(full, after);
  return changed.length;
}
