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

namespace verispec {

namespace {

// Ranking order of a sampler's tokens: more probable first, ties to the lower id.
struct Ranked {
  const double *probs;
  bool operator()(int32_t a, int32_t b) const { return probs[a] > probs[b] || (probs[a] == probs[b] && a < b); }
};

// Buckets of probabilities by their float64 bit pattern's top bits (exponent and 2 mantissa bits): for positive
// doubles a larger pattern is a larger value, so buckets rank tokens coarsely without sorting.
constexpr int BUCKET_SHIFT = 50;
constexpr size_t BUCKETS = size_t(1) << (63 - BUCKET_SHIFT);

inline size_t bucket_of(double p) {
  uint64_t bits;
  std::memcpy(&bits, &p, sizeof bits);
  return (size_t)(bits >> BUCKET_SHIFT);
}

// The top-p set among ids[0..keep) (mass: their total): the shortest prefix of their ranking whose share of the
// mass reaches p, moved to the front of ids; returns its size. Whole buckets above the one where the share is
// crossed are in the set without being sorted; only that bucket's tokens are ranked.
size_t top_p_prefix(std::vector<int32_t> &ids, size_t keep, const double *probs, double mass, double top_p) {
  thread_local std::vector<double> bucket_mass(BUCKETS);
  std::fill(bucket_mass.begin(), bucket_mass.end(), 0.0);
  for (size_t i = 0; i < keep; i++) bucket_mass[bucket_of(probs[ids[i]])] += probs[ids[i]];
  double above = 0;
  size_t cut = BUCKETS - 1;
  while (cut > 0 && (above + bucket_mass[cut]) / mass < top_p) above += bucket_mass[cut--];
  auto first_in_cut = std::partition(ids.begin(), ids.begin() + keep, [&](int32_t id) { return bucket_of(probs[id]) > cut; });
  auto cut_end = std::partition(first_in_cut, ids.begin() + keep, [&](int32_t id) { return bucket_of(probs[id]) == cut; });
  std::sort(first_in_cut, cut_end, Ranked{probs});
  double cumulative = above / mass;
  for (auto it = first_in_cut; it != cut_end; ++it) {
    cumulative += probs[*it] / mass;
    if (cumulative >= top_p) return (size_t)(it - ids.begin()) + 1;
  }
  return (size_t)(cut_end - ids.begin());
}

// Buckets that exps in [e^-87, 1] fall into (exp_nonpositive's range): the top-p-alone path clears only these.
const size_t LOWEST_EXP_BUCKET = bucket_of(1e-38);
const size_t EXP_BUCKETS = bucket_of(1.0) - LOWEST_EXP_BUCKET + 1;

// An exp's bucket among those, clamped (exps stay within [e^-87, 1], but an index must never leave the array).
inline size_t exp_bucket(double e) {
  size_t b = bucket_of(e);
  return b < LOWEST_EXP_BUCKET ? 0 : std::min(b - LOWEST_EXP_BUCKET, EXP_BUCKETS - 1);
}

// Top-p alone, in place, over unnormalised exps in [e^-87, 1] whose total is `mass`: the tokens of the buckets
// above the one where the ranked mass reaches p are kept without sorting, that bucket's tokens are ranked to
// find the shortest prefix, everything else is zeroed; returns the mass kept. The same set as top_p_prefix
// over every token, in two passes over the row and no allocation.
double truncate_top_p(double *exps, int32_t n, double mass, double top_p) {
  thread_local std::vector<double> bucket_mass(EXP_BUCKETS);
  thread_local std::vector<int32_t> in_cut;
  std::fill(bucket_mass.begin(), bucket_mass.end(), 0.0);
  for (int32_t i = 0; i < n; i++) bucket_mass[exp_bucket(exps[i])] += exps[i];
  double above = 0;
  size_t cut = EXP_BUCKETS - 1;
  while (cut > 0 && (above + bucket_mass[cut]) / mass < top_p) above += bucket_mass[cut--];
  in_cut.clear();
  for (int32_t i = 0; i < n; i++) {
    size_t b = exp_bucket(exps[i]);
    if (b == cut) in_cut.push_back(i);
    else if (b < cut) exps[i] = 0;
  }
  std::sort(in_cut.begin(), in_cut.end(), Ranked{exps});
  double kept_mass = above;
  size_t kept = 0;
  while (kept < in_cut.size() && kept_mass / mass < top_p) kept_mass += exps[in_cut[kept++]];
  for (size_t i = kept; i < in_cut.size(); i++) exps[in_cut[i]] = 0;
  return kept_mass;
}

// Top-k, then top-p among those, over a normalised distribution: zeroes every token outside the set and
// renormalises. The set is the tokens ranked by probability (ties to the lower id) up to k, then the shortest
// prefix of those whose mass, as a share of theirs, reaches p.
void truncate_top_k(double *probs, int32_t n, int32_t top_k, double top_p) {
  thread_local std::vector<int32_t> ids;
  thread_local std::vector<uint8_t> kept;
  ids.clear();
  for (int32_t i = 0; i < n; i++)
    if (probs[i] > 0) ids.push_back(i);
  size_t keep = std::min((size_t)top_k, ids.size());
  if (keep < ids.size()) std::nth_element(ids.begin(), ids.begin() + keep, ids.end(), Ranked{probs});
  double mass = 0;
  for (size_t i = 0; i < keep; i++) mass += probs[ids[i]];
  if (top_p < 1) keep = top_p_prefix(ids, keep, probs, mass, top_p);
  kept.assign(n, 0);
  mass = 0;
  for (size_t i = 0; i < keep; i++) {
    kept[ids[i]] = 1;
    mass += probs[ids[i]];
  }
  for (int32_t i = 0; i < n; i++) probs[i] = kept[i] ? probs[i] / mass : 0;
}

}  // namespace

void sampling_distribution(const float *logits, int32_t n, const SamplerSettings &s, double *out) {
  double sum = scaled_exps(logits, n, chunk_max(logits, n), (float)(1 / s.temperature), out);
  // Top-p alone truncates the exps as they are and normalises once, by the mass it keeps.
  if (s.top_k <= 0 && s.top_p < 1) sum = truncate_top_p(out, n, sum, s.top_p);
  scale(out, n, 1 / sum);
  if (s.top_k > 0) truncate_top_k(out, n, s.top_k, s.top_p);
}

int32_t draw_token(const double *probs, int32_t n, double u) {
  double cumulative = 0;
  int32_t last = 0;
  for (int32_t i = 0; i < n; i++) {
    if (probs[i] <= 0) continue;
    cumulative += probs[i];
    last = i;
    if (u < cumulative) return i;
  }
  return last;
}

namespace {

// murmur3's finaliser: spreads every input bit over the 32-bit word.
uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// A uniform in (0, 1) for one token under a (seed, position) key, from 52 hashed bits: exact in float64, never 0 or 1.
double token_uniform(uint32_t key, int32_t token) {
  uint32_t a = fmix32(key + (uint32_t)token * 0x9e3779b1u);
  uint32_t b = fmix32(a ^ 0x6a09e667u);
  return ((double)(a >> 6) * 67108864.0 + (double)(b >> 6) + 0.5) / 4503599627370496.0;
}

}  // namespace

int32_t coupled_token(const double *probs, int32_t n, uint32_t seed, uint32_t position) {
  const uint32_t key = fmix32(fmix32(seed ^ 0x9e3779b9u) ^ position);
  double best = INFINITY;
  int32_t token = -1;
  for (int32_t i = 0; i < n; i++) {
    if (probs[i] <= 0) continue;
    double u = token_uniform(key, i);
    // -log(u) >= 1 - u, so a token whose bound already loses needs no logarithm.
    if ((1 - u) / probs[i] >= best) continue;
    double score = -std::log(u) / probs[i];
    if (score < best) {
      best = score;
      token = i;
    }
  }
  return token < 0 ? 0 : token;
}

namespace {

// A row function's first five arguments (ctx, row, temperature, topK, topP), checked; `name` for the errors.
struct RowRequest {
  Context *c = nullptr;
  int32_t row = 0;
  SamplerSettings settings;
};

bool row_request(napi_env env, const std::vector<napi_value> &a, size_t count, const char *name, RowRequest &out) {
  if (a.size() < count) {
    throw_error(env, std::string(name) + " needs " + std::to_string(count) + " arguments");
    return false;
  }
  out.c = live_context(env, a[0]);
  if (!out.c) return false;
  out.row = get_i32(env, a[1]);
  out.settings.top_k = get_i32(env, a[3]);
  napi_get_value_double(env, a[2], &out.settings.temperature);
  napi_get_value_double(env, a[4], &out.settings.top_p);
  const SamplerSettings &s = out.settings;
  if (!(s.temperature > 0) || s.top_k < 0 || !(s.top_p > 0 && s.top_p <= 1)) {
    throw_error(env, std::string(name) + " needs temperature > 0, topK >= 0 and 0 < topP <= 1");
    return false;
  }
  return true;
}

// The row's sampling distribution in a buffer of this thread's, or null (an error thrown) without the row.
const double *row_distribution(napi_env env, const RowRequest &r) {
  const float *logits = last_row(env, r.c, r.row);
  if (!logits) return nullptr;
  thread_local std::vector<double> probs;
  probs.resize(r.c->n_vocab);
  sampling_distribution(logits, r.c->n_vocab, r.settings, probs.data());
  return probs.data();
}

}  // namespace

// samplingRow(ctx, row, temperature, topK, topP, out): the distribution a sampler draws from at output row
// `row` of the last decode (softmax of logits / temperature, then top-k, then top-p, renormalised), in
// float64 into out, straight from llama.cpp's logits: sampling/distribution.ts's transform, each probability
// within ~1e-5 relative of it (the exps are the float polynomial; see scaled_exps).
napi_value SamplingRow(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 6);
  RowRequest r;
  if (!row_request(env, a, 6, "samplingRow", r)) return nullptr;
  double *out;
  size_t n_out;
  if (!get_typed(env, a[5], napi_float64_array, &out, &n_out) || n_out < (size_t)r.c->n_vocab) return throw_error(env, "samplingRow expects a Float64Array of the vocabulary's size");
  const float *logits = last_row(env, r.c, r.row);
  if (logits) sampling_distribution(logits, r.c->n_vocab, r.settings, out);
  return nullptr;
}

// sampleRow(ctx, row, temperature, topK, topP, u) -> token: the token u picks by inverse CDF in id order from the
// distribution samplingRow would give (draw_token, sampling/distribution.ts's sampleFrom rule), without handing the
// distribution to JavaScript: what sampling the target alone needs per token.
napi_value SampleRow(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 6);
  RowRequest r;
  if (!row_request(env, a, 6, "sampleRow", r)) return nullptr;
  double u = 0;
  napi_get_value_double(env, a[5], &u);
  if (!(u >= 0 && u < 1)) return throw_error(env, "sampleRow's uniform must lie in [0, 1)");
  const double *probs = row_distribution(env, r);
  return probs ? make_i32(env, draw_token(probs, r.c->n_vocab, u)) : nullptr;
}

}  // namespace verispec

namespace verispec {

// coupledRow(ctx, row, temperature, topK, topP, seed, position) -> token: the token Gumbel-max coupling picks from
// the distribution samplingRow would give, with the noise of (seed, position) (coupled_token), without handing the
// distribution to JavaScript: a coupled draw of the target's token at that position of the sequence.
napi_value CoupledRow(napi_env env, napi_callback_info info) {
  auto a = get_args(env, info, 7);
  RowRequest r;
  if (!row_request(env, a, 7, "coupledRow", r)) return nullptr;
  double seed = 0, position = 0;
  napi_get_value_double(env, a[5], &seed);
  napi_get_value_double(env, a[6], &position);
  if (!(seed >= 0 && seed <= 4294967295.0 && position >= 0 && position <= 4294967295.0)) return throw_error(env, "coupledRow's seed and position must be 32-bit unsigned integers");
  const double *probs = row_distribution(env, r);
  return probs ? make_i32(env, coupled_token(probs, r.c->n_vocab, (uint32_t)seed, (uint32_t)position)) : nullptr;
}

}  // namespace verispec
