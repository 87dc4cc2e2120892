// Batch-invariant products (scripts/llamaPatches.mjs): MMVQ with one warp count for 1 to 16 columns and longer
// passes in chunks of 16; without flash attention, float products in chunks of 8 with one block size.
import { ENV_CHECK } from "./common.mjs";

const mmvqCase = (n) => ({
  find: `        case ${n}: {
            constexpr int c_ncols_dst = ${n};
            std::pair<dim3, dim3> dims = calc_launch_params<type>(c_ncols_dst, nrows_x, nchannels_dst, nsamples_dst, warp_size, table_id);
            mul_mat_vec_q_switch_fusion<type, c_ncols_dst>(vx, vy, ids, fusion, dst, ncols_x, nchannels_y_fd, stride_row_x, stride_col_y, stride_col_dst,
                 channel_ratio_fd, stride_channel_x, stride_channel_y, stride_channel_dst,
                 sample_ratio_fd, stride_sample_x, stride_sample_y, stride_sample_dst,
                 dims.first, dims.second, 0, ids_stride, stream);
        } break;`,
  replace: `        case ${n}: launch_columns(std::integral_constant<int, ${n}>{}); break; // verispec patch`,
});

const launchColumns = (
  uniform,
) => `            const std::pair<dim3, dim3> dims = calc_launch_params<type>(c_ncols_dst, nrows_x, nchannels_dst, nsamples_dst, warp_size, table_id, false, false, ${uniform});
            mul_mat_vec_q_switch_fusion<type, c_ncols_dst, false, false, ${uniform}>(vx, vy, ids, fusion, dst, ncols_x, nchannels_y_fd, stride_row_x, stride_col_y, stride_col_dst,
                 channel_ratio_fd, stride_channel_x, stride_channel_y, stride_channel_dst,
                 sample_ratio_fd, stride_sample_x, stride_sample_y, stride_sample_dst,
                 dims.first, dims.second, 0, ids_stride, stream);`;

/** [file, find, replace] patches, in order. */
export const matmulPatches = [
  {
    file: "ggml/src/ggml-cuda/mmvq.cuh",
    find: `#define MMVQ_MAX_BATCH_SIZE 8 // Max. batch size for which to use MMVQ kernels.\n`,
    replace: `#define MMVQ_MAX_BATCH_SIZE 8 // Max. batch size for which to use MMVQ kernels.\n// verispec patch: under GGML_BATCH_INVARIANT, MMVQ takes up to this many columns (scripts/llamaPatches.mjs).\n#define MMVQ_INVARIANT_MAX_COLUMNS 16\n`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `    GGML_ASSERT(ncols_dst <= MMVQ_MAX_BATCH_SIZE);\n`,
    replace: `    GGML_ASSERT(ncols_dst <= (ggml_batch_invariant_env() ? MMVQ_INVARIANT_MAX_COLUMNS : MMVQ_MAX_BATCH_SIZE)); // verispec patch\n`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `#include <type_traits>\n`,
    replace: `#include <type_traits>\n#include <cstdlib>\n\n// verispec patch: batch invariance (scripts/llamaPatches.mjs).\n${ENV_CHECK}\n`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `int calc_nwarps(ggml_type type, int ncols_dst, mmvq_parameter_table_id table_id, bool small_k = false, bool halve_iters = false) {
    if (table_id == MMVQ_PARAMETERS_GENERIC) {`,
    replace: `int calc_nwarps(ggml_type type, int ncols_dst, mmvq_parameter_table_id table_id, bool small_k = false, bool halve_iters = false, bool uniform = false) {
    // verispec patch: uniform, every column count splits the dot products across warps as 8 columns do.
    if (uniform && ncols_dst >= 1 && ncols_dst <= MMVQ_INVARIANT_MAX_COLUMNS) {
        return calc_nwarps(type, MMVQ_MAX_BATCH_SIZE, table_id);
    }
    if (table_id == MMVQ_PARAMETERS_GENERIC) {`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `static constexpr __host__ __device__ int calc_rows_per_block(int ncols_dst, int table_id, bool small_k = false, int nwarps = 1) {\n`,
    replace: `static constexpr __host__ __device__ int calc_rows_per_block(int ncols_dst, int table_id, bool small_k = false, int nwarps = 1) {\n    // verispec patch: 9 to 16 columns (batch invariance only) as 2 to 8.\n    if (ncols_dst > MMVQ_MAX_BATCH_SIZE && ncols_dst <= MMVQ_INVARIANT_MAX_COLUMNS) {\n        return calc_rows_per_block(2, table_id, small_k, nwarps);\n    }\n`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `            static constexpr int c_ncols_dst = 1;\n`,
    replace: `            if (ggml_batch_invariant_env()) { // verispec patch\n                launch_uniform(std::integral_constant<int, 1>{});\n                break;\n            }\n            static constexpr int c_ncols_dst = 1;\n`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `template <ggml_type type, int ncols_dst, bool has_fusion, bool small_k = false, bool halve_iters = false>
__launch_bounds__(calc_nwarps(type, ncols_dst, get_device_table_id(), small_k, halve_iters)*ggml_cuda_get_physical_warp_size(), 1)`,
    replace: `template <ggml_type type, int ncols_dst, bool has_fusion, bool small_k = false, bool halve_iters = false, bool uniform = false>
__launch_bounds__(calc_nwarps(type, ncols_dst, get_device_table_id(), small_k, halve_iters, uniform)*ggml_cuda_get_physical_warp_size(), 1)`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `    constexpr int nwarps = calc_nwarps(type, ncols_dst, table_id, small_k, halve_iters);`,
    replace: `    constexpr int nwarps = calc_nwarps(type, ncols_dst, table_id, small_k, halve_iters, uniform);`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `        const int warp_size, const mmvq_parameter_table_id table_id, const bool small_k = false, const bool halve_iters = false) {
    const int nwarps = calc_nwarps(type, ncols_dst, table_id, small_k, halve_iters);`,
    replace: `        const int warp_size, const mmvq_parameter_table_id table_id, const bool small_k = false, const bool halve_iters = false,
        const bool uniform = false) {
    const int nwarps = calc_nwarps(type, ncols_dst, table_id, small_k, halve_iters, uniform);`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `template<ggml_type type, int c_ncols_dst, bool small_k = false, bool halve_iters = false>
static void mul_mat_vec_q_switch_fusion(`,
    replace: `template<ggml_type type, int c_ncols_dst, bool small_k = false, bool halve_iters = false, bool uniform = false>
static void mul_mat_vec_q_switch_fusion(`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `            ggml_cuda_kernel_launch(mul_mat_vec_q<type, c_ncols_dst, true, small_k, halve_iters>, launch_params,`,
    replace: `            ggml_cuda_kernel_launch(mul_mat_vec_q<type, c_ncols_dst, true, small_k, halve_iters, uniform>, launch_params,`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `    ggml_cuda_kernel_launch(mul_mat_vec_q<type, c_ncols_dst, false, small_k, halve_iters>, launch_params,`,
    replace: `    ggml_cuda_kernel_launch(mul_mat_vec_q<type, c_ncols_dst, false, small_k, halve_iters, uniform>, launch_params,`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: `    switch (ncols_dst) {
        case 1: {
            // static, else MSVC`,
    replace: `    // verispec patch: under GGML_BATCH_INVARIANT, 1 to 16 columns with the warp count of 8 (9 to 16 only then).
    const auto launch_uniform = [&](auto ncols_tag) {
        constexpr int c_ncols_dst = decltype(ncols_tag)::value;
${launchColumns(true)}
    };
    const auto launch_columns = [&](auto ncols_tag) {
        if (ggml_batch_invariant_env()) {
            launch_uniform(ncols_tag);
            return;
        }
        constexpr int c_ncols_dst = decltype(ncols_tag)::value;
${launchColumns(false)}
    };

    switch (ncols_dst) {
        case 1: {
            // static, else MSVC`,
  },
  ...[2, 3, 4, 5, 6, 7, 8].map((n) => ({ file: "ggml/src/ggml-cuda/mmvq.cu", ...mmvqCase(n) })),
  {
    file: "ggml/src/ggml-cuda/mmvq.cu",
    find: mmvqCase(8).replace,
    replace: [
      mmvqCase(8).replace,
      ...[9, 10, 11, 12, 13, 14, 15, 16].map((n) => `        case ${n}: launch_uniform(std::integral_constant<int, ${n}>{}); break; // verispec patch`),
    ].join("\n"),
  },
  {
    file: "ggml/src/ggml-cuda/ggml-cuda.cu",
    find: `static void ggml_cuda_mul_mat(ggml_backend_cuda_context & ctx, const ggml_tensor * src0, const ggml_tensor * src1, ggml_tensor * dst) {
    GGML_TENSOR_BINARY_OP_LOCALS
`,
    replace: `// verispec patch: batch invariance (scripts/llamaPatches.mjs).
${ENV_CHECK}

// Under GGML_BATCH_INVARIANT: the matrix-vector kernel, over chunks of at most 8 columns, whatever the column count,
// so that each column is summed in one order. False where that kernel does not apply (then the stock path runs).
static bool ggml_cuda_mul_mat_batch_invariant(ggml_backend_cuda_context & ctx, const ggml_tensor * src0, const ggml_tensor * src1, ggml_tensor * dst, const int cc) {
    const bool quantized = ggml_is_quantized(src0->type) && ggml_cuda_should_use_mmvq(src0->type, cc, 1);
    // The float kernel's own conditions (alignment), without the stock size limits, which a KV cache view crosses.
    const size_t ts = ggml_type_size(src0->type);
    bool vec_f = !quantized && (src0->type == GGML_TYPE_F32 || src0->type == GGML_TYPE_F16) && src0->ne[0] % 2 == 0 && src0->nb[0] == ts;
    for (int i = 1; i < GGML_MAX_DIMS; ++i) {
        vec_f = vec_f && src0->nb[i] % (2*ts) == 0;
    }
    if (!quantized && !vec_f) {
        return false;
    }
    const int64_t chunk = quantized ? MMVQ_INVARIANT_MAX_COLUMNS : MMVF_MAX_BATCH_SIZE;
    for (int64_t c0 = 0; c0 < src1->ne[1]; c0 += chunk) {
        ggml_tensor src1_c = *src1;
        ggml_tensor dst_c = *dst;
        src1_c.ne[1] = std::min<int64_t>(chunk, src1->ne[1] - c0);
        dst_c.ne[1] = src1_c.ne[1];
        src1_c.data = (char *) src1->data + c0*src1->nb[1];
        dst_c.data = (char *) dst->data + c0*dst->nb[1];
        if (quantized) {
            ggml_cuda_mul_mat_vec_q(ctx, src0, &src1_c, nullptr, &dst_c);
        } else {
            ggml_cuda_mul_mat_vec_f(ctx, src0, &src1_c, nullptr, &dst_c);
        }
    }
    return true;
}

static void ggml_cuda_mul_mat(ggml_backend_cuda_context & ctx, const ggml_tensor * src0, const ggml_tensor * src1, ggml_tensor * dst) {
    GGML_TENSOR_BINARY_OP_LOCALS
`,
  },
  {
    file: "ggml/src/ggml-cuda/ggml-cuda.cu",
    find: `    const int warp_size = ggml_cuda_info().devices[ctx.device].warp_size;

    if (ggml_cuda_should_use_mmvf(src0->type, cc, src0->ne, src0->nb, ne11)) {`,
    replace: `    const int warp_size = ggml_cuda_info().devices[ctx.device].warp_size;

    if (ggml_batch_invariant_env() && ggml_cuda_mul_mat_batch_invariant(ctx, src0, src1, dst, cc)) { // verispec patch
        return;
    }
    if (ggml_cuda_should_use_mmvf(src0->type, cc, src0->ne, src0->nb, ne11)) {`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvf.cu",
    find: `#include "convert.cuh"\n`,
    replace: `#include "convert.cuh"\n\n#include <cstdlib>\n\n// verispec patch: batch invariance (scripts/llamaPatches.mjs).\n${ENV_CHECK}\n`,
  },
  {
    file: "ggml/src/ggml-cuda/mmvf.cu",
    find: `    for (int64_t block_size = 2*warp_size; block_size <= max_block_size; block_size += warp_size) {
        const int64_t niter = (ncols + 2*block_size - 1) / (2*block_size);
        if (niter < niter_best) {
            niter_best      = niter;
            block_size_best = block_size;
        }
    }
`,
    replace: `    for (int64_t block_size = 2*warp_size; block_size <= max_block_size; block_size += warp_size) {
        const int64_t niter = (ncols + 2*block_size - 1) / (2*block_size);
        if (niter < niter_best) {
            niter_best      = niter;
            block_size_best = block_size;
        }
    }
    // verispec patch: rows of 256 or more (attention's value sums run over the KV cells viewed, a multiple of 256
    // that grows with the block's last position) take one block size, so the extra masked cells only add zeros.
    if (ggml_batch_invariant_env() && ncols >= 256) {
        block_size_best = max_block_size;
    }
`,
  },
];
