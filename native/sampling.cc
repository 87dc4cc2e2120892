// A sampler's work on a row of logits, done natively: its distribution (softmax at a temperature, top-k, top-p), a
// draw from it by inverse CDF or by Gumbel-max coupling, and the N-API functions that sample the last decode's rows.
// The exps are rows.cc's vectorised ones.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "rows.h"

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
