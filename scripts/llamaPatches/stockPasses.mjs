// Stock passes under batch invariance: a thread-local choice every patched check reads, the setter the binding
// finds through the CUDA backend's get_proc_address (native/invariance.cc), fusion only in stock passes, and CUDA
// graphs recorded again when the kernels change (scripts/llamaPatches.mjs).

/** [file, find, replace] patches, in order. */
export const stockPassPatches = [
  {
    file: "ggml/src/ggml-cuda/common.cuh",
    find: `#include <memory>\n#include <mutex>\n`,
    replace: `#include <memory>\n#include <mutex>\n\n// verispec patch: this thread's passes run the stock kernels even under GGML_BATCH_INVARIANT (scripts/llamaPatches.mjs).\ninline thread_local bool ggml_cuda_stock_pass = false;\n`,
  },
  {
    file: "ggml/src/ggml-cuda/ggml-cuda.cu",
    find: `    static bool disable_fusion = getenv("GGML_CUDA_DISABLE_FUSION") != nullptr && std::atoi(getenv("GGML_CUDA_DISABLE_FUSION"));
    if (disable_fusion) {
        return 0;
    }
`,
    replace: `    static bool disable_fusion = getenv("GGML_CUDA_DISABLE_FUSION") != nullptr && std::atoi(getenv("GGML_CUDA_DISABLE_FUSION"));
    if (disable_fusion || ggml_batch_invariant_env()) { // verispec patch: fused kernels exist for one-token passes only
        return 0;
    }
`,
  },
  {
    file: "ggml/src/ggml-cuda/ggml-cuda.cu",
    find: `            const bool properties_changed = ggml_cuda_graph_update_required(cuda_ctx, cgraph);
`,
    replace: `            bool properties_changed = ggml_cuda_graph_update_required(cuda_ctx, cgraph);
            // verispec patch: a graph recorded with the other kernels (batch-invariant or stock) is recorded again.
            const int kernels = ggml_batch_invariant_env() ? 1 : 0;
            if (graph->verispec_kernels != kernels) {
                graph->verispec_kernels = kernels;
                properties_changed = true;
            }
`,
  },
  {
    file: "ggml/src/ggml-cuda/common.cuh",
    find: `    bool disable_due_to_gpu_arch = false;
    bool warmup_complete = false;
`,
    replace: `    bool disable_due_to_gpu_arch = false;
    bool warmup_complete = false;
    int verispec_kernels = -1; // verispec patch: 1 when recorded batch-invariant, 0 stock
`,
  },
  {
    file: "ggml/src/ggml-cuda/ggml-cuda.cu",
    find: `static void * ggml_backend_cuda_reg_get_proc_address(ggml_backend_reg_t reg, const char * name) {
    GGML_UNUSED(reg);
`,
    replace: `// verispec patch: the calling thread's next passes run the stock kernels (true) or keep batch invariance.
static void ggml_backend_cuda_set_stock_pass(bool stock) {
    ggml_cuda_stock_pass = stock;
}

static void * ggml_backend_cuda_reg_get_proc_address(ggml_backend_reg_t reg, const char * name) {
    GGML_UNUSED(reg);
    if (strcmp(name, "ggml_backend_cuda_set_stock_pass") == 0) { // verispec patch
        return (void *)ggml_backend_cuda_set_stock_pass;
    }
`,
  },
];
