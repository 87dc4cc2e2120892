// Stock passes under batch invariance: with GGML_BATCH_INVARIANT set, verispec's patched CUDA backend computes
// every pass with kernels that sum each token alike whatever the pass (scripts/llamaPatches.mjs). A context may
// ask for the stock kernels instead, for passes whose numbers need not match other shapes: a prompt's prefill,
// which every generation of the prompt runs in the same shape, and a drafter's passes, which never decide the
// output. The choice is per thread in the backend, so the worker thread sets it before each llama_decode.
#include <atomic>

#include "binding.h"

namespace verispec {

namespace {

using SetStockPass = void (*)(bool);

// The patched CUDA backend's setter; null without CUDA or without the patches (then there is nothing to choose).
// Looked up until found: backends may be registered after the first call.
SetStockPass stock_pass_setter() {
  static std::atomic<SetStockPass> found{nullptr};
  SetStockPass setter = found.load();
  if (setter) return setter;
  ggml_backend_reg_t reg = ggml_backend_reg_by_name("CUDA");
  setter = reg ? (SetStockPass)ggml_backend_reg_get_proc_address(reg, "ggml_backend_cuda_set_stock_pass") : nullptr;
  if (setter) found.store(setter);
  return setter;
}

}  // namespace

void set_stock_pass(bool stock) {
  if (SetStockPass setter = stock_pass_setter()) setter(stock);
}

bool stock_pass_available() { return stock_pass_setter() != nullptr; }

// setStockKernels(ctx, stock): the context's next decodes run llama.cpp's stock kernels (true) or keep batch
// invariance where the process has it on (false, the default).
napi_value SetStockKernels(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 2);
  if (a.size() < 2) return throw_error(env, "setStockKernels needs 2 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  c->stock_kernels = get_bool(env, a[1]);
  return nullptr;
}

}  // namespace verispec
