// Stock passes under batch invariance: with GGML_BATCH_INVARIANT set, verispec's patched CUDA backend computes
// every pass with kernels that sum each token alike whatever the pass (scripts/llamaPatches.mjs). A context may
// ask for the stock kernels instead, for passes whose numbers need not match other shapes: a prompt's prefill,
// which every generation of the prompt runs in the same shape, and a drafter's passes, which never decide the
// output. The choice is per thread in the backend, so the worker thread sets it before each llama_decode.
#include "binding.h"

namespace verispec {

namespace {

using SetStockPass = void (*)(bool);

// The patched CUDA backend's setter; null without CUDA or without the patches (then there is nothing to choose).
SetStockPass find_stock_pass_setter() {
  ggml_backend_reg_t reg = ggml_backend_reg_by_name("CUDA");
  return reg ? (SetStockPass)ggml_backend_reg_get_proc_address(reg, "ggml_backend_cuda_set_stock_pass") : nullptr;
}

}  // namespace

// Decodes run once a model is loaded, when every backend is registered: the setter is looked up once for them.
void set_stock_pass(bool stock) {
  static const SetStockPass setter = find_stock_pass_setter();
  if (setter) setter(stock);
}

// Asked any time (before a model is loaded too): looked up each time.
bool stock_pass_available() { return find_stock_pass_setter() != nullptr; }

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
