// verispec's thin N-API binding over llama.cpp's C API.
// It exposes exactly the calls speculative decoding needs: batch decode with
// per-token positions and sequence-id sets, logits rows copied straight into a
// caller-owned Float32Array, and KV-cache edits (seq_rm / seq_cp / seq_keep).
// Every argument is checked here before it reaches llama.cpp, because several
// llama.cpp asserts abort the whole process.
#include <node_api.h>

#include <dlfcn.h>

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "ggml-backend.h"
#include "llama.h"

namespace {

std::mutex g_log_mutex;
std::string g_last_error;
bool g_verbose = false;

void log_callback(ggml_log_level level, const char *text, void *) {
  if (g_verbose) fputs(text, stderr);
  if (level != GGML_LOG_LEVEL_ERROR && level != GGML_LOG_LEVEL_CONT) return;
  std::lock_guard<std::mutex> lock(g_log_mutex);
  if (level == GGML_LOG_LEVEL_ERROR) g_last_error.clear();
  g_last_error += text;
  if (g_last_error.size() > 2000) g_last_error.erase(0, g_last_error.size() - 2000);
}

std::string take_last_error() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::string out = g_last_error;
  g_last_error.clear();
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

struct Model {
  llama_model *model = nullptr;
  const llama_vocab *vocab = nullptr;
};

struct Context {
  llama_context *ctx = nullptr;
  Model *owner = nullptr;
  int32_t n_seq_max = 1;
  int32_t n_batch = 0;
  int32_t n_vocab = 0;
  bool busy = false;
  llama_batch batch{};
};

#define CHECK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error(env, nullptr, "verispec native: " #call);     \
      return nullptr;                                                \
    }                                                                \
  } while (0)

napi_value throw_error(napi_env env, const std::string &msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

std::vector<napi_value> get_args(napi_env env, napi_callback_info info, size_t n) {
  std::vector<napi_value> args(n);
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, args.data(), nullptr, nullptr);
  if (argc < n) args.resize(argc);
  return args;
}

template <typename T>
T *unwrap(napi_env env, napi_value v) {
  void *data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok) return nullptr;
  return static_cast<T *>(data);
}

int32_t get_i32(napi_env env, napi_value v) {
  int32_t out = 0;
  napi_get_value_int32(env, v, &out);
  return out;
}

bool get_bool(napi_env env, napi_value v) {
  bool out = false;
  napi_get_value_bool(env, v, &out);
  return out;
}

std::string get_string(napi_env env, napi_value v) {
  size_t len = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &len);
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
  return s;
}

template <typename T>
bool get_typed(napi_env env, napi_value v, napi_typedarray_type want, T **data, size_t *length) {
  napi_typedarray_type type;
  void *raw = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset) != napi_ok) return false;
  if (type != want) return false;
  *data = static_cast<T *>(raw);
  return true;
}

napi_value make_i32(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

napi_value make_f64(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

void set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

// The folder holding the libllama this addon was linked against (its ggml backends lie beside it).
std::string llama_library_dir() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void *>(&llama_backend_init), &info) || !info.dli_fname) return "";
  std::string path = info.dli_fname;
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// init(verbose) -> number of backend devices: load the ggml backends shipped beside libllama, then init llama.
napi_value Init(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  g_verbose = !args.empty() && get_bool(env, args[0]);
  llama_log_set(log_callback, nullptr);
  ggml_backend_load_all_from_path(llama_library_dir().c_str());
  llama_backend_init();
  napi_value count = make_i32(env, (int64_t)ggml_backend_dev_count());
  return count;
}

void finalize_model(napi_env, void *data, void *) {
  auto *m = static_cast<Model *>(data);
  if (m->model) llama_model_free(m->model);
  delete m;
}

// loadModel(path, nGpuLayers) -> external Model
napi_value LoadModel(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 2);
  if (args.size() < 2) return throw_error(env, "loadModel(path, nGpuLayers) needs 2 arguments");
  std::string path = get_string(env, args[0]);
  llama_model_params params = llama_model_default_params();
  params.n_gpu_layers = get_i32(env, args[1]);
  take_last_error();
  llama_model *model = llama_model_load_from_file(path.c_str(), params);
  if (!model) {
    std::string why = take_last_error();
    return throw_error(env, "llama.cpp could not load " + path + (why.empty() ? "" : ": " + why));
  }
  auto *m = new Model{model, llama_model_get_vocab(model)};
  napi_value out;
  CHECK(napi_create_external(env, m, finalize_model, nullptr, &out));
  return out;
}

napi_value FreeModel(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  auto *m = args.empty() ? nullptr : unwrap<Model>(env, args[0]);
  if (m && m->model) {
    llama_model_free(m->model);
    m->model = nullptr;
  }
  return nullptr;
}

Model *live_model(napi_env env, napi_value v) {
  auto *m = unwrap<Model>(env, v);
  if (!m || !m->model) {
    napi_throw_error(env, nullptr, "the model has been disposed");
    return nullptr;
  }
  return m;
}

napi_value ModelInfo(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  Model *m = args.empty() ? nullptr : live_model(env, args[0]);
  if (!m) return nullptr;
  napi_value out;
  CHECK(napi_create_object(env, &out));
  char desc[256] = {0};
  llama_model_desc(m->model, desc, sizeof desc);
  napi_value desc_v;
  napi_create_string_utf8(env, desc, NAPI_AUTO_LENGTH, &desc_v);
  set_prop(env, out, "description", desc_v);
  set_prop(env, out, "vocabSize", make_i32(env, llama_vocab_n_tokens(m->vocab)));
  set_prop(env, out, "trainContextSize", make_i32(env, llama_model_n_ctx_train(m->model)));
  set_prop(env, out, "embeddingSize", make_i32(env, llama_model_n_embd(m->model)));
  set_prop(env, out, "parameters", make_f64(env, (double)llama_model_n_params(m->model)));
  set_prop(env, out, "sizeBytes", make_f64(env, (double)llama_model_size(m->model)));
  set_prop(env, out, "bos", make_i32(env, llama_vocab_bos(m->vocab)));
  set_prop(env, out, "eos", make_i32(env, llama_vocab_eos(m->vocab)));
  set_prop(env, out, "eot", make_i32(env, llama_vocab_eot(m->vocab)));
  set_prop(env, out, "vocabType", make_i32(env, llama_vocab_type(m->vocab)));
  return out;
}

// vocabulary(model) -> { texts: string[], pieces: Buffer[], eog: Uint8Array, attrs: Int32Array }
napi_value Vocabulary(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  Model *m = args.empty() ? nullptr : live_model(env, args[0]);
  if (!m) return nullptr;
  int32_t n = llama_vocab_n_tokens(m->vocab);
  napi_value texts, pieces, eog_buf, eog, attr_buf, attrs, out;
  CHECK(napi_create_array_with_length(env, n, &texts));
  CHECK(napi_create_array_with_length(env, n, &pieces));
  void *eog_data = nullptr, *attr_data = nullptr;
  CHECK(napi_create_arraybuffer(env, n, &eog_data, &eog_buf));
  CHECK(napi_create_typedarray(env, napi_uint8_array, n, eog_buf, 0, &eog));
  CHECK(napi_create_arraybuffer(env, n * 4, &attr_data, &attr_buf));
  CHECK(napi_create_typedarray(env, napi_int32_array, n, attr_buf, 0, &attrs));
  std::vector<char> buf(256);
  for (int32_t t = 0; t < n; t++) {
    napi_value text, piece;
    napi_create_string_utf8(env, llama_vocab_get_text(m->vocab, t), NAPI_AUTO_LENGTH, &text);
    napi_set_element(env, texts, t, text);
    int32_t len = llama_token_to_piece(m->vocab, t, buf.data(), (int32_t)buf.size(), 0, false);
    if (len < 0) {
      buf.resize(-len);
      len = llama_token_to_piece(m->vocab, t, buf.data(), (int32_t)buf.size(), 0, false);
    }
    napi_create_buffer_copy(env, len, buf.data(), nullptr, &piece);
    napi_set_element(env, pieces, t, piece);
    static_cast<uint8_t *>(eog_data)[t] = llama_vocab_is_eog(m->vocab, t) ? 1 : 0;
    static_cast<int32_t *>(attr_data)[t] = llama_vocab_get_attr(m->vocab, t);
  }
  CHECK(napi_create_object(env, &out));
  set_prop(env, out, "texts", texts);
  set_prop(env, out, "pieces", pieces);
  set_prop(env, out, "eog", eog);
  set_prop(env, out, "attrs", attrs);
  return out;
}

// tokenize(model, text, addSpecial, parseSpecial) -> Int32Array
napi_value Tokenize(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 4);
  if (args.size() < 4) return throw_error(env, "tokenize(model, text, addSpecial, parseSpecial) needs 4 arguments");
  Model *m = live_model(env, args[0]);
  if (!m) return nullptr;
  std::string text = get_string(env, args[1]);
  bool add_special = get_bool(env, args[2]);
  bool parse_special = get_bool(env, args[3]);
  std::vector<llama_token> tokens(text.size() + 8);
  int32_t n = llama_tokenize(m->vocab, text.data(), (int32_t)text.size(), tokens.data(), (int32_t)tokens.size(),
                             add_special, parse_special);
  if (n < 0) {
    tokens.resize(-n);
    n = llama_tokenize(m->vocab, text.data(), (int32_t)text.size(), tokens.data(), (int32_t)tokens.size(),
                       add_special, parse_special);
  }
  if (n < 0) return throw_error(env, "llama.cpp failed to tokenize the text");
  napi_value ab, out;
  void *data = nullptr;
  CHECK(napi_create_arraybuffer(env, (size_t)n * 4, &data, &ab));
  if (n > 0) std::memcpy(data, tokens.data(), (size_t)n * 4);
  CHECK(napi_create_typedarray(env, napi_int32_array, n, ab, 0, &out));
  return out;
}

void free_context(Context *c) {
  if (c->ctx) {
    llama_batch_free(c->batch);
    llama_free(c->ctx);
    c->ctx = nullptr;
  }
}

void finalize_context(napi_env, void *data, void *) {
  auto *c = static_cast<Context *>(data);
  free_context(c);
  delete c;
}

// createContext(model, nCtx, nBatch, nSeqMax, nThreads) -> external Context
napi_value CreateContext(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 5);
  if (args.size() < 5) return throw_error(env, "createContext needs 5 arguments");
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
  p.no_perf = true;
  take_last_error();
  llama_context *ctx = llama_init_from_model(m->model, p);
  if (!ctx) {
    std::string why = take_last_error();
    return throw_error(env, "llama.cpp could not create a context" + (why.empty() ? "" : ": " + why));
  }
  auto *c = new Context();
  c->ctx = ctx;
  c->owner = m;
  c->n_seq_max = (int32_t)llama_n_seq_max(ctx);
  c->n_batch = (int32_t)llama_n_batch(ctx);
  c->n_vocab = llama_vocab_n_tokens(m->vocab);
  c->batch = llama_batch_init(c->n_batch, 0, c->n_seq_max);
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

// A decode request, validated and staged into the context's llama_batch.
struct DecodeWork {
  Context *c = nullptr;
  float *out = nullptr;
  std::vector<int32_t> output_index;  // batch indices whose logits are copied, in order
  int32_t status = 0;
  std::string error;
  napi_ref out_ref = nullptr;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
};

// Fills c->batch from typed arrays; returns an error message or "".
std::string stage_batch(napi_env env, const std::vector<napi_value> &a, DecodeWork &w) {
  int32_t *tokens, *positions, *seq_offsets, *seq_ids;
  uint8_t *outputs;
  float *out;
  size_t n, n_pos, n_off, n_ids, n_outs, n_out;
  if (!get_typed(env, a[1], napi_int32_array, &tokens, &n) ||
      !get_typed(env, a[2], napi_int32_array, &positions, &n_pos) ||
      !get_typed(env, a[3], napi_int32_array, &seq_offsets, &n_off) ||
      !get_typed(env, a[4], napi_int32_array, &seq_ids, &n_ids) ||
      !get_typed(env, a[5], napi_uint8_array, &outputs, &n_outs) ||
      !get_typed(env, a[6], napi_float32_array, &out, &n_out))
    return "decode expects Int32Array tokens, positions, seqOffsets, seqIds, Uint8Array outputs, Float32Array out";
  Context *c = w.c;
  if (n == 0) return "the batch is empty";
  if ((int64_t)n > c->n_batch) return "the batch has " + std::to_string(n) + " tokens; the session allows " + std::to_string(c->n_batch);
  if (n_pos != n || n_outs != n || n_off != n + 1 || (size_t)seq_offsets[n] > n_ids)
    return "decode arrays have inconsistent lengths";
  int32_t n_ctx = (int32_t)llama_n_ctx(c->ctx);
  size_t n_outputs = 0;
  for (size_t i = 0; i < n; i++) {
    if (tokens[i] < 0 || tokens[i] >= c->n_vocab) return "token " + std::to_string(tokens[i]) + " is outside the vocabulary";
    if (positions[i] < 0 || positions[i] >= n_ctx) return "position " + std::to_string(positions[i]) + " is outside the context of " + std::to_string(n_ctx);
    int32_t from = seq_offsets[i], to = seq_offsets[i + 1];
    if (from < 0 || to <= from || to - from > c->n_seq_max || (size_t)to > n_ids) return "each token needs 1 to maxSequences sequence ids";
    c->batch.token[i] = tokens[i];
    c->batch.pos[i] = positions[i];
    c->batch.n_seq_id[i] = to - from;
    for (int32_t k = from; k < to; k++) {
      if (seq_ids[k] < 0 || seq_ids[k] >= c->n_seq_max) return "sequence id " + std::to_string(seq_ids[k]) + " is outside 0.." + std::to_string(c->n_seq_max - 1);
      c->batch.seq_id[i][k - from] = seq_ids[k];
    }
    c->batch.logits[i] = outputs[i] ? 1 : 0;
    if (outputs[i]) w.output_index.push_back((int32_t)i);
  }
  n_outputs = w.output_index.size();
  if (n_out < n_outputs * (size_t)c->n_vocab) return "the output Float32Array is too small for the logits asked for";
  c->batch.n_tokens = (int32_t)n;
  w.out = out;
  return "";
}

void run_decode(DecodeWork &w) {
  Context *c = w.c;
  w.status = llama_decode(c->ctx, c->batch);
  if (w.status != 0) {
    w.error = take_last_error();
    return;
  }
  size_t row = 0;
  for (int32_t i : w.output_index) {
    const float *logits = llama_get_logits_ith(c->ctx, i);
    if (!logits) {
      w.status = -100;
      w.error = "llama.cpp returned no logits for batch index " + std::to_string(i);
      return;
    }
    std::memcpy(w.out + row * c->n_vocab, logits, sizeof(float) * c->n_vocab);
    row++;
  }
}

std::string decode_error(const DecodeWork &w) {
  if (w.status == 1) return "the context is full (no KV-cache slot for the batch)";
  if (w.status == 2) return "the decode was aborted";
  return "llama_decode failed with status " + std::to_string(w.status) + (w.error.empty() ? "" : ": " + w.error);
}

// decodeSync(ctx, tokens, positions, seqOffsets, seqIds, outputs, out) -> number of rows written
napi_value DecodeSync(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 7);
  if (a.size() < 7) return throw_error(env, "decode needs 7 arguments");
  DecodeWork w;
  w.c = live_context(env, a[0]);
  if (!w.c) return nullptr;
  std::string err = stage_batch(env, a, w);
  if (!err.empty()) return throw_error(env, err);
  run_decode(w);
  if (w.status != 0) return throw_error(env, decode_error(w));
  return make_i32(env, (int64_t)w.output_index.size());
}

void execute_decode(napi_env, void *data) { run_decode(*static_cast<DecodeWork *>(data)); }

void complete_decode(napi_env env, napi_status, void *data) {
  auto *w = static_cast<DecodeWork *>(data);
  w->c->busy = false;
  if (w->status == 0) {
    napi_resolve_deferred(env, w->deferred, make_i32(env, (int64_t)w->output_index.size()));
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, decode_error(*w).c_str(), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
  }
  napi_delete_reference(env, w->out_ref);
  napi_delete_async_work(env, w->work);
  delete w;
}

// decode(...) -> Promise<number>: the same as decodeSync, on a worker thread.
napi_value DecodeAsync(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 7);
  if (a.size() < 7) return throw_error(env, "decode needs 7 arguments");
  auto *w = new DecodeWork();
  w->c = live_context(env, a[0]);
  if (!w->c) {
    delete w;
    return nullptr;
  }
  std::string err = stage_batch(env, a, *w);
  if (!err.empty()) {
    delete w;
    return throw_error(env, err);
  }
  napi_value promise, name;
  CHECK(napi_create_promise(env, &w->deferred, &promise));
  CHECK(napi_create_reference(env, a[6], 1, &w->out_ref));
  napi_create_string_utf8(env, "verispec.decode", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_create_async_work(env, nullptr, name, execute_decode, complete_decode, w, &w->work));
  w->c->busy = true;
  CHECK(napi_queue_async_work(env, w->work));
  return promise;
}

bool check_seq(napi_env env, Context *c, int32_t seq) {
  if (seq < 0 || seq >= c->n_seq_max) {
    napi_throw_range_error(env, nullptr, ("sequence id " + std::to_string(seq) + " is outside 0.." + std::to_string(c->n_seq_max - 1)).c_str());
    return false;
  }
  return true;
}

// seqRemove(ctx, seq, from, to): drop positions [from, to) (to < 0: to the end)
napi_value SeqRemove(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 4);
  if (a.size() < 4) return throw_error(env, "seqRemove needs 4 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  int32_t seq = get_i32(env, a[1]);
  if (!check_seq(env, c, seq)) return nullptr;
  bool ok = llama_memory_seq_rm(llama_get_memory(c->ctx), seq, get_i32(env, a[2]), get_i32(env, a[3]));
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
  auto a = get_args(env, info, 2);
  if (a.size() < 2) return throw_error(env, "seqKeep needs 2 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  int32_t seq = get_i32(env, a[1]);
  if (!check_seq(env, c, seq)) return nullptr;
  llama_memory_seq_keep(llama_get_memory(c->ctx), seq);
  return nullptr;
}

// seqPositionMax(ctx, seq) -> last cached position, -1 when empty
napi_value SeqPositionMax(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 2);
  if (a.size() < 2) return throw_error(env, "seqPositionMax needs 2 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  int32_t seq = get_i32(env, a[1]);
  if (!check_seq(env, c, seq)) return nullptr;
  return make_i32(env, llama_memory_seq_pos_max(llama_get_memory(c->ctx), seq));
}

napi_value MemoryClear(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 1);
  Context *c = a.empty() ? nullptr : live_context(env, a[0]);
  if (!c) return nullptr;
  llama_memory_clear(llama_get_memory(c->ctx), true);
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 2);
  if (a.size() < 2) return throw_error(env, "setThreads needs 2 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  int32_t n = get_i32(env, a[1]);
  if (n < 1) return throw_error(env, "threads must be at least 1");
  llama_set_n_threads(c->ctx, n, n);
  return nullptr;
}

napi_value Register(napi_env env, napi_value exports) {
  struct Entry {
    const char *name;
    napi_callback fn;
  };
  const Entry entries[] = {
      {"init", Init},           {"loadModel", LoadModel},       {"freeModel", FreeModel},
      {"modelInfo", ModelInfo}, {"vocabulary", Vocabulary},     {"tokenize", Tokenize},
      {"createContext", CreateContext}, {"freeContext", FreeContext}, {"contextInfo", ContextInfo},
      {"decode", DecodeAsync},  {"decodeSync", DecodeSync},     {"seqRemove", SeqRemove},
      {"seqCopy", SeqCopy},     {"seqKeep", SeqKeep},           {"seqPositionMax", SeqPositionMax},
      {"memoryClear", MemoryClear}, {"setThreads", SetThreads},
  };
  for (const auto &e : entries) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Register)
