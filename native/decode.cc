// Batch decode: per-token positions and sequence-id sets in; out, a summary of each logits row asked for
// (rows.cc), computed on the worker thread. The rows themselves stay in llama.cpp until copyRow asks.
#include <cstring>

#include "decode.h"

namespace verispec {

namespace {

// One llama_decode of the staged batch, then a summary of each output row (the n-th into summaries + n rows).
void decode_once(DecodeWork &w, size_t first_row) {
  Context *c = w.c;
  auto t0 = Clock::now();
  w.status = llama_decode(c->ctx, c->batch);
  // A GPU backend may return before the pass has run; waiting here charges the pass, not the row work, for it.
  if (w.status == 0) llama_synchronize(c->ctx);
  auto t1 = Clock::now();
  w.decodes++;
  w.tokens += (uint64_t)c->batch.n_tokens;
  w.decode_ms += ms_between(t0, t1);
  if (w.status != 0) {
    w.error = take_last_error();
    return;
  }
  if (!c->captured_layers.empty()) log_layer_inputs(c);
  size_t row = first_row;
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
  w.rows += w.output_index.size();
  w.rows_ms += ms_between(t1, Clock::now());
}

// The token a run appends after step `step`, whose row is batch index `index`: the summary's argmax, or a
// draw (with the step's uniform, or coupled noise at the step's position) from the row's sampling distribution,
// which is kept for the caller.
int32_t next_token(DecodeWork &w, int32_t step, int32_t index) {
  if (!w.distributions) return (int32_t)w.summaries[step * summary_stride(w.top) + 2];
  auto t0 = Clock::now();
  int32_t n = w.c->n_vocab;
  double *dist = w.distributions + (size_t)step * n;
  sampling_distribution(llama_get_logits_ith(w.c->ctx, index), n, w.sampler, dist);
  int32_t token = w.coupled ? coupled_token(dist, n, w.seed, w.position + (uint32_t)step) : draw_token(dist, n, w.uniforms[step]);
  w.rows_ms += ms_between(t0, Clock::now());
  return token;
}

// A run: the token after each output row goes, at the next position of the row's sequences, into a batch of one
// token per row (row r at batch index r), decoded together.
void run_steps(DecodeWork &w) {
  llama_batch &b = w.c->batch;
  const int32_t rows = (int32_t)w.output_index.size();
  // The rows' last positions and sequences, taken before the batch is overwritten.
  std::vector<int32_t> pos(rows), n_seq(rows);
  std::vector<std::vector<llama_seq_id>> seqs(rows);
  for (int32_t r = 0; r < rows; r++) {
    int32_t i = w.output_index[r];
    pos[r] = b.pos[i];
    n_seq[r] = b.n_seq_id[i];
    seqs[r].assign(b.seq_id[i], b.seq_id[i] + b.n_seq_id[i]);
  }
  for (int32_t step = 0; step < w.steps && w.status == 0; step++) {
    std::vector<int32_t> tokens(rows);
    for (int32_t r = 0; r < rows; r++) {
      tokens[r] = next_token(w, step * rows + r, w.output_index[r]);
      w.drafted[step * rows + r] = tokens[r];
    }
    if (step + 1 == w.steps) break;
    for (int32_t r = 0; r < rows; r++) {
      b.token[r] = tokens[r];
      b.pos[r] = ++pos[r];
      b.n_seq_id[r] = n_seq[r];
      for (int32_t k = 0; k < n_seq[r]; k++) b.seq_id[r][k] = seqs[r][k];
      b.logits[r] = 1;
      w.output_index[r] = r;
    }
    b.n_tokens = rows;
    decode_once(w, (size_t)(step + 1) * rows);
  }
}

void run_decode(DecodeWork &w) {
  w.started = Clock::now();
  // The worker thread's choice is invariant kernels unless a decode asks for the stock ones, and is put back after.
  if (w.stock) set_stock_pass(true);
  decode_once(w, 0);
  if (w.drafted) run_steps(w);
  if (w.stock) set_stock_pass(false);
  w.finished = Clock::now();
}

void add_stats(DecodeWork &w) {
  CallStats &s = w.c->stats;
  s.calls += w.decodes;
  s.tokens += w.tokens;
  s.rows += w.rows;
  s.queue_ms += ms_between(w.queued, w.started);
  s.decode_ms += w.decode_ms;
  s.rows_ms += w.rows_ms;
  s.return_ms += ms_between(w.finished, Clock::now());
}

std::string decode_error(const DecodeWork &w) {
  if (w.status == 1) return "the context is full (no KV-cache slot for the batch)";
  if (w.status == 2) return "the decode was aborted";
  return "llama_decode failed with status " + std::to_string(w.status) + (w.error.empty() ? "" : ": " + w.error);
}

void execute_decode(napi_env, void *data) { run_decode(*static_cast<DecodeWork *>(data)); }

void complete_decode(napi_env env, napi_status, void *data) {
  auto *w = static_cast<DecodeWork *>(data);
  w->c->busy = false;
  w->c->last_outputs = w->status == 0 ? w->output_index : std::vector<int32_t>();
  add_stats(*w);
  if (w->status == 0) {
    napi_resolve_deferred(env, w->deferred, make_i32(env, (int64_t)(w->drafted ? w->steps : w->output_index.size())));
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, decode_error(*w).c_str(), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
  }
  napi_delete_reference(env, w->out_ref);
  for (napi_ref r : {w->drafted_ref, w->sampler_ref, w->distributions_ref})
    if (r) napi_delete_reference(env, r);
  napi_delete_async_work(env, w->work);
  delete w;
}

// The decode on a worker thread: resolves with the rows (or the run's steps).
napi_value decode_async(napi_env env, napi_callback_info info, DecodeKind kind) {
  auto a = get_args(env, info, argument_count(kind));
  DecodeWork *w = stage_decode(env, a, kind);
  if (!w) return nullptr;
  napi_value promise, name;
  CHECK(napi_create_promise(env, &w->deferred, &promise));
  CHECK(napi_create_reference(env, a[7], 1, &w->out_ref));
  if (w->drafted) CHECK(napi_create_reference(env, a[9], 1, &w->drafted_ref));
  if (w->distributions) {
    CHECK(napi_create_reference(env, a[10], 1, &w->sampler_ref));
    CHECK(napi_create_reference(env, a[11], 1, &w->distributions_ref));
  }
  napi_create_string_utf8(env, "verispec.decode", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_create_async_work(env, nullptr, name, execute_decode, complete_decode, w, &w->work));
  w->c->busy = true;
  w->queued = Clock::now();
  CHECK(napi_queue_async_work(env, w->work));
  return promise;
}

// The same decode on the calling (JavaScript) thread. On a CPU it saves the hand-offs to a worker thread and back
// (and the worker's wake-ups), 15-20% of a decode of the embedded target on 2 cores, while the event loop waits.
napi_value decode_sync(napi_env env, napi_callback_info info, DecodeKind kind) {
  auto a = get_args(env, info, argument_count(kind));
  DecodeWork *w = stage_decode(env, a, kind);
  if (!w) return nullptr;
  w->queued = Clock::now();
  run_decode(*w);
  w->c->last_outputs = w->status == 0 ? w->output_index : std::vector<int32_t>();
  add_stats(*w);
  napi_value out = nullptr;
  if (w->status == 0) out = make_i32(env, (int64_t)(w->drafted ? w->steps : w->output_index.size()));
  else throw_error(env, decode_error(*w));
  delete w;
  return out;
}

}  // namespace

// decodePass(ctx, tokens, positions, seqOffsets, seqIds, outputs, top, summaries) -> Promise<rows>: one pass;
// summaries (when top > 0) gets one row summary per output row.
napi_value DecodePass(napi_env env, napi_callback_info info) { return decode_async(env, info, DecodeKind::pass); }
napi_value DecodePassSync(napi_env env, napi_callback_info info) { return decode_sync(env, info, DecodeKind::pass); }
// decodeGreedyRun(..., top, summaries, steps, drafted) -> Promise<steps>: after the pass, the token after each
// output row r (its argmax) goes into drafted[r] and is decoded, and so on, for `steps` tokens a row
// (drafted[s * rows + r]); summaries holds the summary before each drafted token.
napi_value DecodeGreedyRun(napi_env env, napi_callback_info info) { return decode_async(env, info, DecodeKind::greedy_run); }
napi_value DecodeGreedyRunSync(napi_env env, napi_callback_info info) { return decode_sync(env, info, DecodeKind::greedy_run); }
// decodeSampledRun(..., 0, summaries, steps, drafted, sampler, distributions) -> Promise<steps>: the same for one
// row, each token drawn from its sampling distribution (see staging.cc's stage_sampler), which goes into distributions.
napi_value DecodeSampledRun(napi_env env, napi_callback_info info) { return decode_async(env, info, DecodeKind::sampled_run); }
napi_value DecodeSampledRunSync(napi_env env, napi_callback_info info) { return decode_sync(env, info, DecodeKind::sampled_run); }

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
