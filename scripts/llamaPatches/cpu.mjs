// Batch invariance on the CPU backend (scripts/llamaPatches.mjs). ggml-cpu computes flash attention three ways:
// row by row over the cells (masked cells skipped, so a row's sums do not depend on the pass or on other
// sequences' cells), in 64 x 64 tiles for passes of 64 query rows or more, and, for a one-row pass over 512 cells
// or more, split across the threads and reduced. The last two sum in other orders, so a request's logits move
// with the pass it shares and the cells its slot's layout spans (by ~0.1 on the embedded target). ggml-cpu's own
// reference switch (use_ref: the row-by-row attention, no graph fusion) is per backend and unset by llama.cpp;
// with GGML_BATCH_INVARIANT=1 every CPU backend starts with it on.

/** [file, find, replace] patches, in order. */
export const cpuPatches = [
  {
    file: "ggml/src/ggml-cpu/ggml-cpu.cpp",
    find: `    ctx->use_ref             = false;\n`,
    replace: `    // verispec patch: under GGML_BATCH_INVARIANT=1, the reference kernels (scripts/llamaPatches/cpu.mjs).\n    ctx->use_ref             = getenv("GGML_BATCH_INVARIANT") != nullptr && atoi(getenv("GGML_BATCH_INVARIANT")) != 0;\n`,
  },
];
