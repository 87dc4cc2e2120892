// Batch-invariant attention (scripts/llamaPatches.mjs): the softmax with one block size, flash attention's
// vector kernel for every pass, one column per block, with a fixed split of the KV cells.
import { ENV_CHECK, envCheck } from "./common.mjs";

/** [file, find, replace] patches, in order. */
export const attentionPatches = [
  {
    file: "ggml/src/ggml-cuda/softmax.cu",
    find: `#include <utility>\n`,
    replace: `#include <utility>\n#include <cstdlib>\n\n// verispec patch: batch invariance (scripts/llamaPatches.mjs).\n${ENV_CHECK}\n`,
  },
  {
    file: "ggml/src/ggml-cuda/softmax.cu",
    find: `    if (nbytes_shared <= smpbo) {
        launch_soft_max_kernels<32, 64, 128, 256, 512, 1024, 2048, 4096>(`,
    replace: `    // verispec patch: one block size whatever the row's length (the KV cells viewed), so that the masked cells
    // past the used ones only add zeros to the same sums.
    if (ggml_batch_invariant_env() && nbytes_shared <= smpbo) {
        CUDA_SET_SHARED_MEMORY_LIMIT((soft_max_f32<true, 0, 0, T>), smpbo);
        soft_max_f32<true, 0, 0><<<block_nums, dim3(CUDA_SOFT_MAX_BLOCK_SIZE, 1, 1), nbytes_shared, stream>>>(x, mask, sinks, dst, params);
        return;
    }
    if (nbytes_shared <= smpbo) {
        launch_soft_max_kernels<32, 64, 128, 256, 512, 1024, 2048, 4096>(`,
  },
  {
    file: "ggml/src/ggml-cuda/fattn-common.cuh",
    find: `#include "common.cuh"\n`,
    replace: `#include "common.cuh"\n\n#include <cstdlib>\n\n// verispec patch: batch invariance (scripts/llamaPatches.mjs).\n${envCheck("ggml_fattn_batch_invariant_env")}\n`,
  },
  {
    file: "ggml/src/ggml-cuda/fattn-common.cuh",
    find: `        blocks_num.x = ntiles_x;\n        blocks_num.y = parallel_blocks;\n`,
    replace: `        // verispec patch: as many blocks share a column's KV cells whatever the pass or the cells viewed (these
        // take every 4th tile in turn, so extra masked tiles only add zeros); at least 256 cells are viewed.
        if (ggml_fattn_batch_invariant_env()) {
            parallel_blocks = std::max(1, std::min(4, 256/nbatch_fa));
        }
        blocks_num.x = ntiles_x;\n        blocks_num.y = parallel_blocks;\n`,
  },
  {
    file: "ggml/src/ggml-cuda/fattn.cu",
    find: `    const bool can_use_vector_kernel = Q->ne[0] <= 256 && Q->ne[0] % 64 == 0 && Q->ne[0] != 192 && K->ne[1] % FATTN_KQ_STRIDE == 0;\n`,
    replace: `    const bool can_use_vector_kernel = Q->ne[0] <= 256 && Q->ne[0] % 64 == 0 && Q->ne[0] != 192 && K->ne[1] % FATTN_KQ_STRIDE == 0;\n    // verispec patch: under GGML_BATCH_INVARIANT every pass takes the one-column vector kernel (fattn-vec.cuh).\n    if (ggml_fattn_batch_invariant_env() && can_use_vector_kernel) {\n        return BEST_FATTN_KERNEL_VEC;\n    }\n`,
  },
  {
    file: "ggml/src/ggml-cuda/fattn-vec.cuh",
    find: `    if (Q->ne[1] == 1) {\n`,
    replace: `    if (Q->ne[1] == 1 || ggml_fattn_batch_invariant_env()) { // verispec patch: one column per block\n`,
  },
];
