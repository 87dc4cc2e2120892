// Per-row work on the logits of a decode, done natively so that a 128k-token vocabulary never has to cross
// into JavaScript whole: the row's most likely tokens (argmax first, ties to the lower id), and at
// temperature 1 its log-sum-exp and entropy. Full rows are copied only when a caller asks for one.
#include <cmath>
#include <cstring>
#include <limits>

#include "binding.h"

namespace verispec {

// Writes one row's summary at `out` (stride summary_stride(top)): [logSumExp, entropy, ids[top], logits[top]].
// top == 1 finds the argmax only (one pass, no exp) and leaves logSumExp and entropy NaN.
void summarize_row(const float *logits, int32_t n_vocab, int32_t top, double *out) {
  std::vector<int32_t> ids(top, -1);
  std::vector<float> vals(top, -std::numeric_limits<float>::infinity());
  for (int32_t i = 0; i < n_vocab; i++) {
    float v = logits[i];
    if (!(v > vals[top - 1]) && ids[top - 1] >= 0) continue;
    int32_t at = top - 1;
    while (at > 0 && (ids[at - 1] < 0 || v > vals[at - 1])) {
      vals[at] = vals[at - 1];
      ids[at] = ids[at - 1];
      at--;
    }
    vals[at] = v;
    ids[at] = i;
  }
  double nan = std::numeric_limits<double>::quiet_NaN(), lse = nan, entropy = nan;
  if (top > 1) {
    double max = vals[0], sum = 0, weighted = 0;
    for (int32_t i = 0; i < n_vocab; i++) {
      double d = (double)logits[i] - max;
      double e = std::exp(d);
      sum += e;
      weighted += e * d;
    }
    lse = max + std::log(sum);
    entropy = std::log(sum) - weighted / sum;
  }
  out[0] = lse;
  out[1] = entropy;
  for (int32_t k = 0; k < top; k++) {
    out[2 + k] = ids[k];
    out[2 + top + k] = vals[k];
  }
}

namespace {

// copyRow(ctx, row, out, offset): the logits of output row `row` of the context's last decode into out[offset..].
napi_value CopyRowImpl(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 4);
  if (a.size() < 4) return throw_error(env, "copyRow needs 4 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  int32_t row = get_i32(env, a[1]), offset = get_i32(env, a[3]);
  float *out;
  size_t n_out;
  if (!get_typed(env, a[2], napi_float32_array, &out, &n_out)) return throw_error(env, "copyRow expects a Float32Array");
  if (row < 0 || (size_t)row >= c->last_outputs.size()) return throw_error(env, "row " + std::to_string(row) + " was not asked for in the last decode");
  if (offset < 0 || (size_t)offset + (size_t)c->n_vocab > n_out) return throw_error(env, "the Float32Array is too small for the row");
  const float *logits = llama_get_logits_ith(c->ctx, c->last_outputs[row]);
  if (!logits) return throw_error(env, "llama.cpp has no logits for that row");
  std::memcpy(out + offset, logits, sizeof(float) * c->n_vocab);
  return nullptr;
}

}  // namespace

napi_value CopyRow(napi_env env, napi_callback_info info) { return CopyRowImpl(env, info); }

}  // namespace verispec
