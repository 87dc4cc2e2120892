// Batch decode: per-token positions and sequence-id sets in, logits rows out into a caller's Float32Array.
#include <cstring>

#include "binding.h"

namespace verispec {

namespace {

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

}  // namespace


namespace {

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

}  // namespace

// decode(ctx, tokens, positions, seqOffsets, seqIds, outputs, out) -> Promise<number of rows written>, on a worker thread.
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

}  // namespace verispec
