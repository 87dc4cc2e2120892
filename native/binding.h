// Shared declarations of verispec's N-API binding over llama.cpp's C API.
#pragma once

#include <node_api.h>

#include <string>
#include <vector>

#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "llama.h"

namespace verispec {

struct Model {
  llama_model *model = nullptr;
  const llama_vocab *vocab = nullptr;
};

// Where a context's decode calls spent their time, summed: waiting for a worker thread, inside llama_decode,
// summarizing logits rows, and waiting for the main thread to take the result.
struct CallStats {
  uint64_t calls = 0, tokens = 0, rows = 0;
  double queue_ms = 0, decode_ms = 0, rows_ms = 0, return_ms = 0;
};

struct Context {
  llama_context *ctx = nullptr;
  ggml_threadpool *threadpool = nullptr;
  Model *owner = nullptr;
  int32_t n_seq_max = 1;
  int32_t n_batch = 0;
  int32_t n_vocab = 0;
  bool busy = false;
  // Decodes run llama.cpp's stock kernels even under batch invariance (invariance.cc).
  bool stock_kernels = false;
  llama_batch batch{};
  CallStats stats;
  // Batch indices of the last decode's output rows (for copying a row after the decode).
  std::vector<int32_t> last_outputs;
  int32_t n_embd = 0;
  // Target layers whose inputs every pass keeps for an EAGLE-3 head (eagle.cc), in the head's order, and, per
  // sequence, each position's inputs as its last pass left them (positions x layers x n_embd floats).
  std::vector<int32_t> captured_layers;
  std::vector<std::vector<float>> feature_log;
  // An EAGLE-3 head's context: its batches carry a token and an embedding row per entry (eagle.cc).
  bool head = false;
};

// Doubles per row of a summary with the `top` most likely tokens: logSumExp, entropy, ids, logits.
inline int32_t summary_stride(int32_t top) { return 2 + 2 * top; }
void summarize_row(const float *logits, int32_t n_vocab, int32_t top, double *out);

// What a sampler draws from: softmax of logits / temperature, then top-k (0: all), then top-p (1: all).
struct SamplerSettings {
  double temperature = 1;
  int32_t top_k = 0;
  double top_p = 1;
};
// The sampler's normalised distribution over a row of logits, in float64 into out (n values).
void sampling_distribution(const float *logits, int32_t n, const SamplerSettings &s, double *out);
// The token a uniform u in [0, 1) picks by inverse CDF in id order (zeros skipped; the last token with mass if
// rounding leaves u past the total): sampling/distribution.ts's sampleFrom.
int32_t draw_token(const double *probs, int32_t n, double u);
// The token Gumbel-max picks with noise keyed by (seed, position): argmin over tokens with mass of E / p, E the
// exponential noise of (seed, position, token) (sampling/coupledDraw.ts's rule, bit for bit). A drafter's q and the
// target's p drawn with the same key agree as often as the coupling allows, and each draw alone follows its own
// distribution exactly.
int32_t coupled_token(const double *probs, int32_t n, uint32_t seed, uint32_t position);

// The calling thread's next passes run the stock kernels (true) or keep batch invariance (invariance.cc); whether
// the loaded CUDA backend offers the choice.
void set_stock_pass(bool stock);
bool stock_pass_available();

// The last error llama.cpp logged (cleared when taken), and whether its log goes to stderr.
std::string take_last_error();
void install_log(bool verbose);
// The folder holding the libllama this addon was linked against.
std::string llama_library_dir();

Model *live_model(napi_env env, napi_value v);
// A context over m with parameters p (its batch with `embd` floats per entry, 0 for tokens), or null with an error
// thrown; wrap_context hands it to JavaScript.
Context *new_context(napi_env env, Model *m, const llama_context_params &p, int32_t embd);
napi_value wrap_context(napi_env env, Context *c);
Context *live_context(napi_env env, napi_value v);
void free_context(Context *c);
// After a pass of a context capturing layers: each token's inputs go to the feature log of each of its sequences.
void log_layer_inputs(Context *c);

#define CHECK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error(env, nullptr, "verispec native: " #call);     \
      return nullptr;                                                \
    }                                                                \
  } while (0)

inline napi_value throw_error(napi_env env, const std::string &msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

inline std::vector<napi_value> get_args(napi_env env, napi_callback_info info, size_t n) {
  std::vector<napi_value> args(n);
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, args.data(), nullptr, nullptr);
  if (argc < n) args.resize(argc);
  return args;
}

template <typename T>
inline T *unwrap(napi_env env, napi_value v) {
  void *data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok) return nullptr;
  return static_cast<T *>(data);
}

inline int32_t get_i32(napi_env env, napi_value v) {
  int32_t out = 0;
  napi_get_value_int32(env, v, &out);
  return out;
}

inline bool get_bool(napi_env env, napi_value v) {
  bool out = false;
  napi_get_value_bool(env, v, &out);
  return out;
}

inline std::string get_string(napi_env env, napi_value v) {
  size_t len = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &len);
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
  return s;
}

template <typename T>
inline bool get_typed(napi_env env, napi_value v, napi_typedarray_type want, T **data, size_t *length) {
  napi_typedarray_type type;
  void *raw = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset) != napi_ok) return false;
  if (type != want) return false;
  *data = static_cast<T *>(raw);
  return true;
}

inline napi_value make_i32(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

inline napi_value make_f64(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

inline void set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

// N-API entry points, by file.
napi_value Init(napi_env env, napi_callback_info info);
napi_value LoadModel(napi_env env, napi_callback_info info);
napi_value FreeModel(napi_env env, napi_callback_info info);
napi_value ModelInfo(napi_env env, napi_callback_info info);
napi_value Vocabulary(napi_env env, napi_callback_info info);
napi_value Tokenize(napi_env env, napi_callback_info info);
napi_value CreateContext(napi_env env, napi_callback_info info);
napi_value FreeContext(napi_env env, napi_callback_info info);
napi_value ContextInfo(napi_env env, napi_callback_info info);
napi_value SeqRemove(napi_env env, napi_callback_info info);
napi_value SeqCopy(napi_env env, napi_callback_info info);
napi_value SeqKeep(napi_env env, napi_callback_info info);
napi_value SeqPositionMax(napi_env env, napi_callback_info info);
napi_value MemoryClear(napi_env env, napi_callback_info info);
napi_value DecodePass(napi_env env, napi_callback_info info);
napi_value DecodePassSync(napi_env env, napi_callback_info info);
napi_value DecodeGreedyRun(napi_env env, napi_callback_info info);
napi_value DecodeGreedyRunSync(napi_env env, napi_callback_info info);
napi_value DecodeSampledRun(napi_env env, napi_callback_info info);
napi_value DecodeSampledRunSync(napi_env env, napi_callback_info info);
napi_value ContextStats(napi_env env, napi_callback_info info);
napi_value CopyRow(napi_env env, napi_callback_info info);
napi_value SamplingRow(napi_env env, napi_callback_info info);
napi_value SampleRow(napi_env env, napi_callback_info info);
napi_value CoupledRow(napi_env env, napi_callback_info info);
napi_value Devices(napi_env env, napi_callback_info info);
napi_value BuildInfo(napi_env env, napi_callback_info info);
napi_value AddRpcServer(napi_env env, napi_callback_info info);
napi_value LoadBackend(napi_env env, napi_callback_info info);
napi_value SetStockKernels(napi_env env, napi_callback_info info);
napi_value CaptureLayers(napi_env env, napi_callback_info info);
napi_value LayerFeatures(napi_env env, napi_callback_info info);
napi_value HeadLayers(napi_env env, napi_callback_info info);
napi_value CreateHeadContext(napi_env env, napi_callback_info info);
napi_value HeadEncode(napi_env env, napi_callback_info info);
napi_value HeadDecode(napi_env env, napi_callback_info info);

}  // namespace verispec
