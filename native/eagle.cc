// EAGLE-3 heads (docs/eagle3.md): a target context keeps the inputs of chosen layers for every token of a pass, and
// a head context, which borrows the target's embeddings and output matrix, encodes those features (its `fc`) and
// decodes (token, feature) pairs into its own one-layer cache.
#include <cstring>

#include "binding.h"

// llama.cpp's staging API (src/llama-ext.h of its source, C++ linkage, not among the public headers libllama is
// built with): declared here as libllama exports them.
void llama_set_embeddings_layer_inp(llama_context *ctx, uint32_t lid, bool value);
float *llama_get_embeddings_layer_inp(llama_context *ctx, uint32_t lid);
void llama_set_embeddings_nextn(llama_context *ctx, bool value, bool masked);
float *llama_get_embeddings_nextn(llama_context *ctx);
float *llama_get_embeddings_nextn_ith(llama_context *ctx, int32_t i);
const int32_t *llama_model_target_layer_ids(const llama_model *model);
uint32_t llama_model_target_layer_ids_n(const llama_model *model);

namespace verispec {

// captureLayers(context, layers: Int32Array): from the next pass on, the context keeps the input of each layer for
// every token of the pass (not only the rows asked for), until the pass after it; an empty list stops capturing.
napi_value CaptureLayers(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 2);
  if (a.size() < 2) return throw_error(env, "captureLayers needs 2 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  int32_t *layers;
  size_t n;
  if (!get_typed(env, a[1], napi_int32_array, &layers, &n)) return throw_error(env, "captureLayers expects an Int32Array of layer ids");
  const int32_t n_layer = llama_model_n_layer(c->owner->model);
  for (size_t k = 0; k < n; k++)
    if (layers[k] < 0 || layers[k] >= n_layer)
      return throw_error(env, "layer " + std::to_string(layers[k]) + " is outside the model's 0.." + std::to_string(n_layer - 1));
  // A pooled context keeps what an earlier session captured: those layers stop first.
  for (int32_t lid : c->captured_layers) llama_set_embeddings_layer_inp(c->ctx, (uint32_t)lid, false);
  for (size_t k = 0; k < n; k++) llama_set_embeddings_layer_inp(c->ctx, (uint32_t)layers[k], true);
  c->captured_layers.assign(layers, layers + n);
  c->feature_log.clear();
  return nullptr;
}

// A sequence's log reaches its highest position logged (not the context's size: a slot of a shared context uses
// positions up to its own size, and a context of S slots has S times as many cells and sequences).
void log_layer_inputs(Context *c) {
  const size_t width = (size_t)c->n_embd, row = width * c->captured_layers.size();
  if (c->feature_log.size() < (size_t)c->n_seq_max) c->feature_log.resize(c->n_seq_max);
  for (size_t k = 0; k < c->captured_layers.size(); k++) {
    const float *layer = llama_get_embeddings_layer_inp(c->ctx, (uint32_t)c->captured_layers[k]);
    if (!layer) continue;
    for (int32_t i = 0; i < c->batch.n_tokens; i++)
      for (int32_t j = 0; j < c->batch.n_seq_id[i]; j++) {
        std::vector<float> &log = c->feature_log[c->batch.seq_id[i][j]];
        const size_t end = ((size_t)c->batch.pos[i] + 1) * row;
        if (log.size() < end) log.resize(end);
        std::memcpy(log.data() + (size_t)c->batch.pos[i] * row + k * width, layer + (size_t)i * width, width * sizeof(float));
      }
  }
}

// layerFeatures(context, sequence, positions: Int32Array, out: Float32Array): the captured layers' inputs of the
// sequence's tokens at these positions, as the last pass that computed each left them.
napi_value LayerFeatures(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 4);
  if (a.size() < 4) return throw_error(env, "layerFeatures needs 4 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  const int32_t seq = get_i32(env, a[1]);
  int32_t *positions;
  float *out;
  size_t n, n_out;
  if (!get_typed(env, a[2], napi_int32_array, &positions, &n) || !get_typed(env, a[3], napi_float32_array, &out, &n_out))
    return throw_error(env, "layerFeatures expects Int32Array positions and a Float32Array");
  const size_t row = (size_t)c->n_embd * c->captured_layers.size();
  if (row == 0) return throw_error(env, "the context captures no layers (captureLayers)");
  if (seq < 0 || (size_t)seq >= c->feature_log.size() || c->feature_log[seq].empty()) return throw_error(env, "no pass has computed sequence " + std::to_string(seq) + " since capture began");
  if (n_out < n * row) return throw_error(env, "the Float32Array is too small for the positions asked for");
  const std::vector<float> &log = c->feature_log[seq];
  for (size_t i = 0; i < n; i++) {
    if (positions[i] < 0 || (size_t)(positions[i] + 1) * row > log.size())
      return throw_error(env, "no pass has computed position " + std::to_string(positions[i]) + " of sequence " + std::to_string(seq) + " since capture began");
    std::memcpy(out + i * row, log.data() + (size_t)positions[i] * row, row * sizeof(float));
  }
  return nullptr;
}

// headLayers(model) -> Int32Array: the target layers an EAGLE-3 head reads (empty for other models).
napi_value HeadLayers(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 1);
  Model *m = a.empty() ? nullptr : live_model(env, a[0]);
  if (!m) return nullptr;
  const uint32_t n = llama_model_target_layer_ids_n(m->model);
  const int32_t *ids = llama_model_target_layer_ids(m->model);
  napi_value buffer, out;
  void *data = nullptr;
  CHECK(napi_create_arraybuffer(env, n * sizeof(int32_t), &data, &buffer));
  if (n > 0 && ids) std::memcpy(data, ids, n * sizeof(int32_t));
  CHECK(napi_create_typedarray(env, napi_int32_array, n, buffer, 0, &out));
  return out;
}

// createHeadContext(head, target, nCtx, nBatch, nSeqMax, nThreads) -> external Context: the head's context, reading the
// target context's embeddings and output matrix (llama.cpp's ctx_other); it must be freed before the target's.
napi_value CreateHeadContext(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 6);
  if (a.size() < 6) return throw_error(env, "createHeadContext needs 6 arguments");
  Model *m = live_model(env, a[0]);
  Context *target = m ? live_context(env, a[1]) : nullptr;
  if (!target) return nullptr;
  if (llama_model_target_layer_ids_n(m->model) == 0) return throw_error(env, "the head model is not an EAGLE-3 head (it names no target layers)");
  llama_context_params p = llama_context_default_params();
  p.n_ctx = (uint32_t)get_i32(env, a[2]);
  p.n_batch = p.n_ubatch = (uint32_t)get_i32(env, a[3]);
  p.n_seq_max = (uint32_t)get_i32(env, a[4]);
  p.n_threads = p.n_threads_batch = get_i32(env, a[5]);
  p.kv_unified = true;
  p.no_perf = true;
  p.ctx_other = target->ctx;
  Context *c = new_context(env, m, p, llama_model_n_embd(m->model));
  if (!c) return nullptr;
  // llama_batch_init allocates embeddings or tokens; a head's batches carry both.
  c->batch.token = static_cast<llama_token *>(malloc(sizeof(llama_token) * c->n_batch));
  c->head = true;
  // The pre-norm state of each row asked for: the next draft step's feature.
  llama_set_embeddings_nextn(c->ctx, true, true);
  return wrap_context(env, c);
}

// headEncode(head, features: Float32Array, n, out: Float32Array): the head's `fc` over n rows of concatenated target
// layer inputs, n x n_embd floats into out.
napi_value HeadEncode(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 4);
  if (a.size() < 4) return throw_error(env, "headEncode needs 4 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  if (!c->head) return throw_error(env, "headEncode needs a head's context");
  float *features, *out;
  size_t n_features, n_out;
  const int32_t n = get_i32(env, a[2]);
  if (!get_typed(env, a[1], napi_float32_array, &features, &n_features) || !get_typed(env, a[3], napi_float32_array, &out, &n_out))
    return throw_error(env, "headEncode expects Float32Array features and a Float32Array out");
  const size_t in_row = n_features / (n > 0 ? n : 1), out_row = (size_t)c->n_embd;
  if (n <= 0 || n_features % n != 0 || n_out < (size_t)n * out_row) return throw_error(env, "headEncode's arrays do not hold n rows");
  for (int32_t from = 0; from < n; from += c->n_batch) {
    const int32_t count = std::min(c->n_batch, n - from);
    llama_batch enc{};
    enc.n_tokens = count;
    enc.embd = features + (size_t)from * in_row;
    take_last_error();
    if (llama_encode(c->ctx, enc) != 0) return throw_error(env, "the head's encoder failed: " + take_last_error());
    const float *g = llama_get_embeddings_nextn(c->ctx);
    if (!g) return throw_error(env, "the head's encoder gave no output");
    std::memcpy(out + (size_t)from * out_row, g, (size_t)count * out_row * sizeof(float));
  }
  return nullptr;
}

namespace {

struct HeadBatch {
  int32_t *tokens, *positions, *seqs;
  float *features, *prenorm;
  uint8_t *outputs;
  size_t n, n_features, n_prenorm;
  double *summaries = nullptr;  // optional: each output row's summary of its `top` most likely tokens
  size_t n_summaries = 0;
  int32_t top = 0;
};

std::string check_head_batch(Context *c, const HeadBatch &b) {
  if (b.n == 0 || (int64_t)b.n > c->n_batch) return "the head's batch must hold 1 to " + std::to_string(c->n_batch) + " entries";
  if (b.n_features != b.n * (size_t)c->n_embd) return "the features must be n x " + std::to_string(c->n_embd) + " floats";
  size_t rows = 0;
  for (size_t i = 0; i < b.n; i++) {
    if (b.tokens[i] < 0 || b.tokens[i] >= c->n_vocab) return "token " + std::to_string(b.tokens[i]) + " is outside the vocabulary";
    if (b.seqs[i] < 0 || b.seqs[i] >= c->n_seq_max) return "sequence id " + std::to_string(b.seqs[i]) + " is outside the head's";
    if (b.positions[i] < 0 || b.positions[i] >= (int32_t)llama_n_ctx(c->ctx)) return "position " + std::to_string(b.positions[i]) + " is outside the head's context";
    if (b.outputs[i]) rows++;
  }
  if (b.n_prenorm < rows * (size_t)c->n_embd) return "the pre-norm Float32Array is too small for the rows asked for";
  if (b.top > 0 && b.n_summaries < rows * (size_t)summary_stride(b.top)) return "the summaries Float64Array is too small for the rows asked for";
  return "";
}

// Decodes the batch with every entry an output (or none). llama.cpp's eagle3 graph computes every entry's
// logits and state without selecting the rows asked for, and its output buffer takes the first ones: a batch that
// mixes entries asked for and not would hand back the wrong rows. Every entry's row is computed anyway, so a batch
// with any entry asked for is decoded whole with every entry an output, in one pass, and read by batch index.
std::string decode_head(Context *c, const HeadBatch &b, bool outputs) {
  const size_t width = (size_t)c->n_embd;
  for (size_t k = 0; k < b.n; k++) {
    c->batch.token[k] = b.tokens[k];
    c->batch.pos[k] = b.positions[k];
    c->batch.n_seq_id[k] = 1;
    c->batch.seq_id[k][0] = b.seqs[k];
    c->batch.logits[k] = outputs ? 1 : 0;
    std::memcpy(c->batch.embd + k * width, b.features + k * width, width * sizeof(float));
  }
  c->batch.n_tokens = (int32_t)b.n;
  take_last_error();
  if (llama_decode(c->ctx, c->batch) != 0) return "the head's decode failed: " + take_last_error();
  return "";
}

}  // namespace

// headDecode(head, tokens, positions, seqIds: Int32Array, features: Float32Array, outputs: Uint8Array, prenorm:
// Float32Array[, summaries: Float64Array, top]): decodes (token, feature) pairs into the head's cache; for each entry
// asked for, its logits stay for copyRow (in order), its pre-norm state (the next step's feature) goes to prenorm and,
// with top > 0, its row summary to summaries. One llama_decode for the batch (see decode_head).
napi_value HeadDecode(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 9);
  if (a.size() < 7) return throw_error(env, "headDecode needs 7 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  if (!c->head) return throw_error(env, "headDecode needs a head's context");
  HeadBatch b{};
  size_t n_pos, n_seq, n_out;
  if (!get_typed(env, a[1], napi_int32_array, &b.tokens, &b.n) || !get_typed(env, a[2], napi_int32_array, &b.positions, &n_pos) ||
      !get_typed(env, a[3], napi_int32_array, &b.seqs, &n_seq) || !get_typed(env, a[4], napi_float32_array, &b.features, &b.n_features) ||
      !get_typed(env, a[5], napi_uint8_array, &b.outputs, &n_out) || !get_typed(env, a[6], napi_float32_array, &b.prenorm, &b.n_prenorm))
    return throw_error(env, "headDecode expects Int32Array tokens, positions, seqIds, Float32Array features, Uint8Array outputs, Float32Array prenorm");
  if (n_pos != b.n || n_seq != b.n || n_out != b.n) return throw_error(env, "headDecode's arrays have inconsistent lengths");
  // Optional: each output row summarized (summary_stride(top) doubles a row), so that a greedy drafter needs no row.
  b.top = a.size() >= 9 ? get_i32(env, a[8]) : 0;
  if (b.top > 0 && !get_typed(env, a[7], napi_float64_array, &b.summaries, &b.n_summaries))
    return throw_error(env, "headDecode's summaries must be a Float64Array");
  std::string bad = check_head_batch(c, b);
  if (!bad.empty()) return throw_error(env, bad);
  bool any = false;
  for (size_t i = 0; i < b.n; i++) any = any || b.outputs[i];
  c->last_outputs.clear();
  bad = decode_head(c, b, any);
  if (!bad.empty()) return throw_error(env, bad);
  const size_t width = (size_t)c->n_embd;
  for (size_t i = 0, row = 0; i < b.n; i++) {
    if (!b.outputs[i]) continue;
    const float *state = llama_get_embeddings_nextn_ith(c->ctx, (int32_t)i);
    if (!state) return throw_error(env, "the head gave no pre-norm state for entry " + std::to_string(i));
    std::memcpy(b.prenorm + row * width, state, width * sizeof(float));
    if (b.top > 0) summarize_row(llama_get_logits_ith(c->ctx, (int32_t)i), c->n_vocab, b.top, b.summaries + row * summary_stride(b.top));
    c->last_outputs.push_back((int32_t)i);
    row++;
  }
  return nullptr;
}

}  // namespace verispec
