// A decode's work: what a decode call is asked (validated and staged by staging.cc) and what the worker did with
// it (decode.cc).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "binding.h"

namespace verispec {

using Clock = std::chrono::steady_clock;

inline double ms_between(Clock::time_point from, Clock::time_point to) {
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

// What a decode call does, one native function each: a pass (row summaries of its output rows), a greedy run
// (each row continued with its argmax, `steps` tokens), or a sampled run (one row continued with draws).
enum class DecodeKind { pass, greedy_run, sampled_run };

// The arguments each kind of decode takes.
inline size_t argument_count(DecodeKind kind) { return kind == DecodeKind::pass ? 8 : kind == DecodeKind::greedy_run ? 10 : 12; }

// Validates and stages a decode's arguments into a new DecodeWork (its batch in the context's llama_batch); throws
// and returns null when they are wrong.
DecodeWork *stage_decode(napi_env env, const std::vector<napi_value> &a, DecodeKind kind);

}  // namespace verispec
