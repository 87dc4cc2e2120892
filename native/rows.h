// What rows.cc shares with the sampler (sampling.cc). Not in binding.h: rows.cc defines the helpers under its
// "O3, fast-math" pragma, and only there, so it must not see an earlier declaration of them.
#pragma once

#include "binding.h"

namespace verispec {

// The largest of n logits (vectorised).
float chunk_max(const float *logits, int32_t n);
// exp((l - max) * inv_t) of every logit as float64 into out; returns the float64 sum of what was stored.
double scaled_exps(const float *logits, int32_t n, float max, float inv_t, double *out);
// out[i] *= factor over n values (vectorised).
void scale(double *out, int32_t n, double factor);
// The logits of output row `row` of the context's last decode, or null with a JavaScript error thrown.
const float *last_row(napi_env env, Context *c, int32_t row);

}  // namespace verispec
