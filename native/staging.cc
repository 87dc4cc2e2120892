// A decode call's arguments, checked and staged: the batch from typed arrays into the context's llama_batch, and a
// run's steps, drafted tokens and sampler (decode.h's DecodeWork). The decode itself is decode.cc's.
#include <string>

#include "decode.h"

namespace verispec {

namespace {

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

// Validates and stages a decode's arguments (see the functions above) into a new DecodeWork; throws and returns
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

}  // namespace verispec
