// Contexts (KV caches with several sequences), their thread pools, and cache edits.
#include "binding.h"

namespace verispec {

namespace {

using threadpool_new_fn = ggml_threadpool *(*)(ggml_threadpool_params *);
using threadpool_free_fn = void (*)(ggml_threadpool *);

// The CPU backend is loaded at run time, so its thread-pool functions are looked up through the registry.
template <typename Fn>
Fn cpu_backend_fn(const char *name) {
  ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (!cpu) return nullptr;
  return reinterpret_cast<Fn>(ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(cpu), name));
}

// A thread pool whose workers sleep between graphs instead of busy-polling: with polling, idle
// workers keep whole cores busy and starve the JavaScript thread that sits between decodes
// (measured here on 2 cores: 14 ms instead of 3 ms per sequential 1-token decode).
ggml_threadpool *sleeping_threadpool(int32_t n_threads) {
  auto make = cpu_backend_fn<threadpool_new_fn>("ggml_threadpool_new");
  if (!make || n_threads < 2) return nullptr;
  ggml_threadpool_params params = ggml_threadpool_params_default(n_threads);
  // VERISPEC_POLL (a diagnostic switch for experiments): the pool's polling level, 0 (workers sleep) unless set.
  const char *poll = getenv("VERISPEC_POLL");
  params.poll = poll ? atoi(poll) : 0;
  return make(&params);
}

}  // namespace

void free_context(Context *c) {
  if (c->ctx) {
    llama_batch_free(c->batch);
    llama_free(c->ctx);
    c->ctx = nullptr;
  }
  if (c->threadpool) {
    if (auto release = cpu_backend_fn<threadpool_free_fn>("ggml_threadpool_free")) release(c->threadpool);
    c->threadpool = nullptr;
  }
}

namespace {

void finalize_context(napi_env, void *data, void *) {
  auto *c = static_cast<Context *>(data);
  free_context(c);
  delete c;
}

}  // namespace

// createContext(model, nCtx, nBatch, nSeqMax, nThreads, f32Cache) -> external Context
napi_value CreateContext(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 6);
  if (args.size() < 6) return throw_error(env, "createContext needs 6 arguments");
  Model *m = live_model(env, args[0]);
  if (!m) return nullptr;
  llama_context_params p = llama_context_default_params();
  p.n_ctx = (uint32_t)get_i32(env, args[1]);
  p.n_batch = (uint32_t)get_i32(env, args[2]);
  p.n_ubatch = p.n_batch;
  p.n_seq_max = (uint32_t)get_i32(env, args[3]);
  p.n_threads = get_i32(env, args[4]);
  p.n_threads_batch = p.n_threads;
  p.kv_unified = true;
  if (get_bool(env, args[5])) p.type_k = p.type_v = GGML_TYPE_F32;
  p.no_perf = true;
  // VERISPEC_FA (a diagnostic switch for experiments): llama.cpp's flash-attention setting (-1 auto, 0 off, 1 on)
  // for every context, as the CPU batch-invariance measurements compared it; llama.cpp's default unless set.
  if (const char *fa = getenv("VERISPEC_FA")) p.flash_attn_type = (llama_flash_attn_type)atoi(fa);
  Context *c = new_context(env, m, p, 0);
  return c ? wrap_context(env, c) : nullptr;
}

Context *new_context(napi_env env, Model *m, const llama_context_params &p, int32_t embd) {
  take_last_error();
  llama_context *ctx = llama_init_from_model(m->model, p);
  if (!ctx) {
    std::string why = take_last_error();
    throw_error(env, "llama.cpp could not create a context" + (why.empty() ? "" : ": " + why));
    return nullptr;
  }
  auto *c = new Context();
  c->ctx = ctx;
  c->threadpool = sleeping_threadpool(p.n_threads);
  if (c->threadpool) llama_attach_threadpool(ctx, c->threadpool, c->threadpool);
  c->owner = m;
  c->n_seq_max = (int32_t)llama_n_seq_max(ctx);
  c->n_batch = (int32_t)llama_n_batch(ctx);
  c->n_vocab = llama_vocab_n_tokens(m->vocab);
  c->n_embd = llama_model_n_embd(m->model);
  c->batch = llama_batch_init(c->n_batch, embd, c->n_seq_max);
  return c;
}

napi_value wrap_context(napi_env env, Context *c) {
  napi_value out;
  CHECK(napi_create_external(env, c, finalize_context, nullptr, &out));
  return out;
}

Context *live_context(napi_env env, napi_value v) {
  auto *c = unwrap<Context>(env, v);
  if (!c || !c->ctx) {
    napi_throw_error(env, nullptr, "the session has been disposed");
    return nullptr;
  }
  if (c->busy) {
    napi_throw_error(env, nullptr, "the session is busy with another decode");
    return nullptr;
  }
  return c;
}

napi_value FreeContext(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  auto *c = args.empty() ? nullptr : unwrap<Context>(env, args[0]);
  if (c && c->busy) return throw_error(env, "cannot dispose a session while a decode is running");
  if (c) free_context(c);
  return nullptr;
}

napi_value ContextInfo(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  Context *c = args.empty() ? nullptr : live_context(env, args[0]);
  if (!c) return nullptr;
  napi_value out;
  CHECK(napi_create_object(env, &out));
  set_prop(env, out, "contextSize", make_i32(env, llama_n_ctx(c->ctx)));
  set_prop(env, out, "batchSize", make_i32(env, c->n_batch));
  set_prop(env, out, "maxSequences", make_i32(env, c->n_seq_max));
  return out;
}

namespace {

bool check_seq(napi_env env, Context *c, int32_t seq) {
  if (seq < 0 || seq >= c->n_seq_max) {
    napi_throw_range_error(env, nullptr, ("sequence id " + std::to_string(seq) + " is outside 0.." + std::to_string(c->n_seq_max - 1)).c_str());
    return false;
  }
  return true;
}

// A call whose first two arguments are (context, sequence id), checked; `c` is null when an error was thrown.
struct SeqCall {
  Context *c = nullptr;
  int32_t seq = -1;
  std::vector<napi_value> args;
};

SeqCall seq_call(napi_env env, napi_callback_info info, size_t n, const char *name) {
  SeqCall call;
  call.args = get_args(env, info, n);
  if (call.args.size() < n) {
    throw_error(env, std::string(name) + " needs " + std::to_string(n) + " arguments");
    return call;
  }
  Context *c = live_context(env, call.args[0]);
  if (!c) return call;
  int32_t seq = get_i32(env, call.args[1]);
  if (!check_seq(env, c, seq)) return call;
  call.c = c;
  call.seq = seq;
  return call;
}

}  // namespace

// seqRemove(ctx, seq, from, to): drop positions [from, to) (to < 0: to the end)
napi_value SeqRemove(napi_env env, napi_callback_info info) {
  SeqCall call = seq_call(env, info, 4, "seqRemove");
  if (!call.c) return nullptr;
  bool ok = llama_memory_seq_rm(llama_get_memory(call.c->ctx), call.seq, get_i32(env, call.args[2]), get_i32(env, call.args[3]));
  napi_value out;
  napi_get_boolean(env, ok, &out);
  return out;
}

// seqCopy(ctx, src, dst, from, to)
napi_value SeqCopy(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 5);
  if (a.size() < 5) return throw_error(env, "seqCopy needs 5 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  int32_t src = get_i32(env, a[1]), dst = get_i32(env, a[2]);
  if (!check_seq(env, c, src) || !check_seq(env, c, dst)) return nullptr;
  if (src != dst) llama_memory_seq_cp(llama_get_memory(c->ctx), src, dst, get_i32(env, a[3]), get_i32(env, a[4]));
  return nullptr;
}

napi_value SeqKeep(napi_env env, napi_callback_info info) {
  SeqCall call = seq_call(env, info, 2, "seqKeep");
  if (!call.c) return nullptr;
  llama_memory_seq_keep(llama_get_memory(call.c->ctx), call.seq);
  return nullptr;
}

// seqPositionMax(ctx, seq) -> last cached position, -1 when empty
napi_value SeqPositionMax(napi_env env, napi_callback_info info) {
  SeqCall call = seq_call(env, info, 2, "seqPositionMax");
  if (!call.c) return nullptr;
  return make_i32(env, llama_memory_seq_pos_max(llama_get_memory(call.c->ctx), call.seq));
}

napi_value MemoryClear(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 1);
  Context *c = a.empty() ? nullptr : live_context(env, a[0]);
  if (!c) return nullptr;
  llama_memory_clear(llama_get_memory(c->ctx), true);
  return nullptr;
}

}  // namespace verispec
