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

// A decode request, validated and staged into the context's llama_batch. A run (steps > 1) goes on after the
// batch: it appends the next token after each output row (its argmax, or a draw from its sampling distribution)
// at the next position of that row's sequences and decodes them together, steps - 1 times, in the same call.
// Each output row is the last token of its own sequences (a sampled run has one row); step s of row r is
// summarized into row s * rows + r and its token goes to drafted[s * rows + r].
struct DecodeWork {
  Context *c = nullptr;
  double *summaries = nullptr;
  int32_t top = 0;  // tokens per row summary; 0: no summaries
  std::vector<int32_t> output_index;  // batch indices whose logits are summarized, in order
  int32_t steps = 1;
  bool stock = false;  // the context's stock_kernels when the decode was asked for
  int32_t *drafted = nullptr;  // a run: the token after each step of each row
  // A sampled run: the sampler, how its tokens are drawn (one uniform per step from the caller's rng, or coupled
  // noise keyed by the seed and each token's position), and the distribution each token is drawn from
  // (steps x n_vocab); null for a greedy run.
  SamplerSettings sampler;
  const double *uniforms = nullptr;
  bool coupled = false;
  uint32_t seed = 0, position = 0;
  double *distributions = nullptr;
  int32_t status = 0;
  std::string error;
  napi_ref out_ref = nullptr, drafted_ref = nullptr, sampler_ref = nullptr, distributions_ref = nullptr;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  // What the worker did: forward passes, tokens and rows, and the time in passes and in row work.
  int32_t decodes = 0;
  uint64_t tokens = 0, rows = 0;
  double decode_ms = 0, rows_ms = 0;
  // queued: handed to the worker pool; started/finished: on the worker; then taken back on the main thread.
  Clock::time_point queued, started, finished;
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

}  // namespace


namespace {

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

}  // namespace

namespace {

// Whether batch tokens i and j share a sequence.
bool share_sequence(const llama_batch &b, int32_t i, int32_t j) {
  for (int32_t k = 0; k < b.n_seq_id[i]; k++)
    for (int32_t l = 0; l < b.n_seq_id[j]; l++)
      if (b.seq_id[i][k] == b.seq_id[j][l]) return true;
  return false;
}

// A run's extra arguments (steps, drafted): checked against the staged batch; returns an error or "". Each output
// row must be the last token of its sequences, and no two rows may share one.
std::string stage_greedy(napi_env env, const std::vector<napi_value> &a, DecodeWork &w, size_t n_summaries) {
  size_t n_drafted;
  w.steps = get_i32(env, a[8]);
  if (!get_typed(env, a[9], napi_int32_array, &w.drafted, &n_drafted)) return "a run expects an Int32Array for the drafted tokens";
  const llama_batch &b = w.c->batch;
  const size_t rows = w.output_index.size();
  if (rows < 1) return "a run asks for the logits of at least one token";
  if (w.steps < 1 || (size_t)w.steps * rows > n_drafted) return "a run needs 1 to drafted.length / rows steps";
  if (w.top > 0 && n_summaries < (size_t)w.steps * rows * summary_stride(w.top)) return "a run needs room for a summary per step and row";
  for (int32_t i : w.output_index) {
    for (int32_t j = i + 1; j < b.n_tokens; j++)
      if (share_sequence(b, i, j)) return "each row of a run must be the last token of its sequences, and rows may not share a sequence";
    if (b.pos[i] + w.steps - 1 >= (int32_t)llama_n_ctx(w.c->ctx)) return "a run would go past the context";
  }
  return "";
}

// A sampled run's extra arguments: sampler = [temperature, topK, topP, 0, u_0 .. u_steps-1] (inverse CDF by
// uniforms) or [temperature, topK, topP, 1, seed, position of the first token] (coupled draws), and distributions
// (steps x n_vocab); returns an error or "".
std::string stage_sampler(napi_env env, const std::vector<napi_value> &a, DecodeWork &w) {
  double *sampler;
  size_t n_sampler, n_dists;
  if (!get_typed(env, a[10], napi_float64_array, &sampler, &n_sampler) || !get_typed(env, a[11], napi_float64_array, &w.distributions, &n_dists))
    return "a sampled run expects Float64Arrays for the sampler and the distributions";
  if (n_sampler < 4) return "a sampled run needs the sampler's settings and how it draws";
  if (n_dists < (size_t)w.steps * w.c->n_vocab) return "a sampled run needs room for a distribution per step";
  w.sampler = {sampler[0], (int32_t)sampler[1], sampler[2]};
  if (!(w.sampler.temperature > 0) || w.sampler.top_k < 0 || !(w.sampler.top_p > 0 && w.sampler.top_p <= 1))
    return "a sampled run needs temperature > 0, topK >= 0 and 0 < topP <= 1";
  w.coupled = sampler[3] == 1;
  if (w.coupled) {
    if (n_sampler < 6 || !(sampler[4] >= 0 && sampler[4] <= 4294967295.0 && sampler[5] >= 0 && sampler[5] + w.steps <= 4294967295.0))
      return "a coupled run needs a seed and a first position that are 32-bit unsigned integers";
    w.seed = (uint32_t)sampler[4];
    w.position = (uint32_t)sampler[5];
    return "";
  }
  if (sampler[3] != 0 || n_sampler < 4 + (size_t)w.steps) return "a sampled run needs a uniform per step";
  w.uniforms = sampler + 4;
  for (int32_t i = 0; i < w.steps; i++)
    if (!(w.uniforms[i] >= 0 && w.uniforms[i] < 1)) return "a sampled run's uniforms must lie in [0, 1)";
  return "";
}

}  // namespace

namespace {

// What a decode call does, one native function each: a pass (row summaries of its output rows), a greedy run
// (each row continued with its argmax, `steps` tokens), or a sampled run (one row continued with draws).
enum class DecodeKind { pass, greedy_run, sampled_run };

size_t argument_count(DecodeKind kind) { return kind == DecodeKind::pass ? 8 : kind == DecodeKind::greedy_run ? 10 : 12; }

// Validates and stages a decode's arguments (see the functions below) into a new DecodeWork; throws and returns
// null when they are wrong.
DecodeWork *stage_decode(napi_env env, const std::vector<napi_value> &a, DecodeKind kind) {
  if (a.size() != argument_count(kind)) {
    throw_error(env, "this decode takes " + std::to_string(argument_count(kind)) + " arguments, got " + std::to_string(a.size()));
    return nullptr;
  }
  auto *w = new DecodeWork();
  w->c = live_context(env, a[0]);
  if (!w->c) {
    delete w;
    return nullptr;
  }
  w->stock = w->c->stock_kernels;
  std::string err = stage_batch(env, a, *w);
  if (err.empty() && kind != DecodeKind::pass) {
    size_t n_summaries = 0;
    double *unused;
    get_typed(env, a[7], napi_float64_array, &unused, &n_summaries);
    err = stage_greedy(env, a, *w, n_summaries);
    if (err.empty() && kind == DecodeKind::sampled_run) err = stage_sampler(env, a, *w);
    if (err.empty() && w->distributions && w->output_index.size() != 1) err = "a sampled run continues one row";
    // A greedy run reads each token from its row's summary.
    if (err.empty() && !w->distributions && w->top < 1) err = "a greedy run needs a summary per step (top >= 1)";
  }
  if (!err.empty()) {
    delete w;
    throw_error(env, err);
    return nullptr;
  }
  return w;
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
// row, each token drawn from its sampling distribution (see stage_sampler), which goes into distributions.
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
