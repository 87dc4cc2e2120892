// Batch decode: per-token positions and sequence-id sets in; out, a summary of each logits row asked for
// (rows.cc), computed on the worker thread. The rows themselves stay in llama.cpp until copyRow asks.
#include <chrono>
#include <cstring>

#include "binding.h"

namespace verispec {

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// A decode request, validated and staged into the context's llama_batch.
struct DecodeWork {
  Context *c = nullptr;
  double *summaries = nullptr;
  int32_t top = 0;  // tokens per row summary; 0: no summaries
  std::vector<int32_t> output_index;  // batch indices whose logits are summarized, in order
  int32_t status = 0;
  std::string error;
  napi_ref out_ref = nullptr;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  // queued: handed to the worker pool; started/decoded/summarized (rows done): on the worker; taken back on the main thread.
  Clock::time_point queued, started, decoded, summarized;
};

// Fills c->batch from typed arrays; returns an error message or "".
std::string stage_batch(napi_env env, const std::vector<napi_value> &a, DecodeWork &w) {
  int32_t *tokens, *positions, *seq_offsets, *seq_ids;
  uint8_t *outputs;
  double *summaries;
  size_t n, n_pos, n_off, n_ids, n_outs, n_summaries;
  if (!get_typed(env, a[1], napi_int32_array, &tokens, &n) ||
      !get_typed(env, a[2], napi_int32_array, &positions, &n_pos) ||
      !get_typed(env, a[3], napi_int32_array, &seq_offsets, &n_off) ||
      !get_typed(env, a[4], napi_int32_array, &seq_ids, &n_ids) ||
      !get_typed(env, a[5], napi_uint8_array, &outputs, &n_outs) ||
      !get_typed(env, a[7], napi_float64_array, &summaries, &n_summaries))
    return "decode expects Int32Array tokens, positions, seqOffsets, seqIds, Uint8Array outputs, a top count, Float64Array summaries";
  w.top = get_i32(env, a[6]);
  if (w.top < 0 || w.top > 64 || w.top > w.c->n_vocab) return "the summary's top count must be 0 to 64";
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
  if (w.top > 0 && n_summaries < n_outputs * (size_t)summary_stride(w.top)) return "the summaries Float64Array is too small for the rows asked for";
  c->batch.n_tokens = (int32_t)n;
  w.summaries = summaries;
  return "";
}

void run_decode(DecodeWork &w) {
  Context *c = w.c;
  w.started = Clock::now();
  w.status = llama_decode(c->ctx, c->batch);
  w.decoded = w.summarized = Clock::now();
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
    if (w.top > 0) summarize_row(logits, c->n_vocab, w.top, w.summaries + row * summary_stride(w.top));
    row++;
  }
  w.summarized = Clock::now();
}

void add_stats(DecodeWork &w) {
  CallStats &s = w.c->stats;
  s.calls++;
  s.tokens += (uint64_t)w.c->batch.n_tokens;
  s.rows += w.output_index.size();
  s.queue_ms += ms_between(w.queued, w.started);
  s.decode_ms += ms_between(w.started, w.decoded);
  s.rows_ms += ms_between(w.decoded, w.summarized);
  s.return_ms += ms_between(w.summarized, Clock::now());
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
  w->c->last_outputs = w->status == 0 ? w->output_index : std::vector<int32_t>();
  add_stats(*w);
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

// decode(ctx, tokens, positions, seqOffsets, seqIds, outputs, top, summaries) -> Promise<number of rows>, on a
// worker thread; summaries (when top > 0) gets one row summary per output row.
napi_value DecodeAsync(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 8);
  if (a.size() < 8) return throw_error(env, "decode needs 8 arguments");
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
  CHECK(napi_create_reference(env, a[7], 1, &w->out_ref));
  napi_create_string_utf8(env, "verispec.decode", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_create_async_work(env, nullptr, name, execute_decode, complete_decode, w, &w->work));
  w->c->busy = true;
  w->queued = Clock::now();
  CHECK(napi_queue_async_work(env, w->work));
  return promise;
}

// contextStats(ctx) -> { calls, tokens, rows, queueMs, decodeMs, rowsMs, returnMs }, summed since the context was made.
napi_value ContextStats(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 1);
  auto *c = a.empty() ? nullptr : unwrap<Context>(env, a[0]);
  if (!c) return throw_error(env, "contextStats needs a session");
  const CallStats &s = c->stats;
  napi_value out;
  CHECK(napi_create_object(env, &out));
  set_prop(env, out, "calls", make_f64(env, (double)s.calls));
  set_prop(env, out, "tokens", make_f64(env, (double)s.tokens));
  set_prop(env, out, "rows", make_f64(env, (double)s.rows));
  set_prop(env, out, "queueMs", make_f64(env, s.queue_ms));
  set_prop(env, out, "decodeMs", make_f64(env, s.decode_ms));
  set_prop(env, out, "rowsMs", make_f64(env, s.rows_ms));
  set_prop(env, out, "returnMs", make_f64(env, s.return_ms));
  return out;
}

}  // namespace verispec
