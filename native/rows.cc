// Per-row work on the logits of a decode, done natively so that a 128k-token vocabulary never has to cross
// into JavaScript whole: the row's most likely tokens (argmax first, ties to the lower id), and at
// temperature 1 its log-sum-exp and entropy. Full rows are copied only when a caller asks for one.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "binding.h"

namespace verispec {

struct ExpSums {
  float sum, weighted;
};

// Logits per chunk of the exp sums: float sums over a chunk (vectorised), chunks added in double.
constexpr int32_t EXP_CHUNK = 1024;

#pragma GCC push_options
#pragma GCC optimize("O3", "fast-math")

// exp(x) for x <= 0 in float, as a polynomial the compiler can vectorise (Cephes' expf: x = n ln2 + r, e^r by
// a degree-6 polynomial, 2^n put into the exponent bits); within a few float ulps of std::exp, and 0 below -87.
inline float exp_nonpositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  // Round x / ln2 to the nearest integer: it is <= 0, and conversion truncates toward zero.
  int32_t k = (int32_t)(x * 1.44269504088896341f - 0.5f);
  float n = (float)k;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  int32_t bits = (k + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// sum of exp(l - max) and of exp(l - max) * (l - max) over n logits, in float: this loop is most of the row
// work at a 128k vocabulary, so it is compiled for vector units (relative error ~1e-7, far below what any
// signal reads).
ExpSums exp_sums(const float *logits, int32_t n, float max) {
  float sum = 0, weighted = 0;
  for (int32_t i = 0; i < n; i++) {
    float d = logits[i] - max;
    float e = exp_nonpositive(d);
    sum += e;
    weighted += e * d;
  }
  return {sum, weighted};
}

// exp((l - max) * inv_t) of every logit as float64 into out, and the float64 sum of what was stored (so the
// distribution normalised by it sums to 1 to float64 rounding): the same float polynomial as the summaries,
// vectorised; each value within ~1e-7 of exp in float64, which cost several times more per row.
double scaled_exps(const float *logits, int32_t n, float max, float inv_t, double *out) {
  for (int32_t i = 0; i < n; i++) out[i] = exp_nonpositive((logits[i] - max) * inv_t);
  double total = 0;
  for (int32_t i = 0; i < n; i++) total += out[i];
  return total;
}

// The largest of n logits (vectorised; NaN-free logits assumed, as llama.cpp's are).
float chunk_max(const float *logits, int32_t n) {
  float m = logits[0];
  for (int32_t i = 1; i < n; i++) m = logits[i] > m ? logits[i] : m;
  return m;
}

// out[i] *= factor over n values (vectorised).
void scale(double *out, int32_t n, double factor) {
  for (int32_t i = 0; i < n; i++) out[i] *= factor;
}

#pragma GCC pop_options

// Logits per chunk of the top-token scan.
constexpr int32_t SCAN_CHUNK = 64;

// Writes one row's summary at `out` (stride summary_stride(top)): [logSumExp, entropy, ids[top], logits[top]].
// top == 1 finds the argmax only (one pass, no exp) and leaves logSumExp and entropy NaN.
void summarize_row(const float *logits, int32_t n_vocab, int32_t top, double *out) {
  std::vector<int32_t> ids(top, -1);
  std::vector<float> vals(top, -std::numeric_limits<float>::infinity());
  for (int32_t from = 0; from < n_vocab; from += SCAN_CHUNK) {
    int32_t to = std::min(from + SCAN_CHUNK, n_vocab);
    // Once the list is full, a chunk whose largest logit does not beat its last entry changes nothing.
    if (ids[top - 1] >= 0 && !(chunk_max(logits + from, to - from) > vals[top - 1])) continue;
    for (int32_t i = from; i < to; i++) {
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
  }
  double nan = std::numeric_limits<double>::quiet_NaN(), lse = nan, entropy = nan;
  if (top > 1) {
    double sum = 0, weighted = 0;
    for (int32_t from = 0; from < n_vocab; from += EXP_CHUNK) {
      ExpSums part = exp_sums(logits + from, std::min(EXP_CHUNK, n_vocab - from), vals[0]);
      sum += part.sum;
      weighted += part.weighted;
    }
    lse = vals[0] + std::log(sum);
    entropy = std::log(sum) - weighted / sum;
  }
  out[0] = lse;
  out[1] = entropy;
  for (int32_t k = 0; k < top; k++) {
    out[2 + k] = ids[k];
    out[2 + top + k] = vals[k];
  }
}

// The logits of output row `row` of the context's last decode, or null with a JavaScript error thrown.
const float *last_row(napi_env env, Context *c, int32_t row) {
  if (row < 0 || (size_t)row >= c->last_outputs.size()) {
    throw_error(env, "row " + std::to_string(row) + " was not asked for in the last decode");
    return nullptr;
  }
  const float *logits = llama_get_logits_ith(c->ctx, c->last_outputs[row]);
  if (!logits) throw_error(env, "llama.cpp has no logits for that row");
  return logits;
}

// copyRow(ctx, row, out, offset): the logits of output row `row` of the context's last decode into out[offset..].
napi_value CopyRow(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 4);
  if (a.size() < 4) return throw_error(env, "copyRow needs 4 arguments");
  Context *c = live_context(env, a[0]);
  if (!c) return nullptr;
  int32_t offset = get_i32(env, a[3]);
  float *out;
  size_t n_out;
  if (!get_typed(env, a[2], napi_float32_array, &out, &n_out)) return throw_error(env, "copyRow expects a Float32Array");
  if (offset < 0 || (size_t)offset + (size_t)c->n_vocab > n_out) return throw_error(env, "the Float32Array is too small for the row");
  const float *logits = last_row(env, c, get_i32(env, a[1]));
  if (logits) std::memcpy(out + offset, logits, sizeof(float) * c->n_vocab);
  return nullptr;
}

}  // namespace verispec
