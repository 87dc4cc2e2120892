// What the patch modules share: the C++ check every patched kernel choice makes (scripts/llamaPatches.mjs).

/**
 * A C++ function: whether this pass keeps batch invariance: GGML_BATCH_INVARIANT set to a non-zero number (read
 * once) and the calling thread not running a stock pass (common.cuh's ggml_cuda_stock_pass).
 */
export const envCheck = (name) => `static bool ${name}() {
    static const bool on = [] {
        const char * e = getenv("GGML_BATCH_INVARIANT");
        return e != nullptr && atoi(e) != 0;
    }();
    return on && !ggml_cuda_stock_pass;
}`;
export const ENV_CHECK = envCheck("ggml_batch_invariant_env");
