// verispec-quantize: llama.cpp's quantization (llama_model_quantize, the function llama-quantize calls) with
// llama-quantize's defaults, as one small program linked against libllama only, so that `npm test` can make
// K-quant models without building llama.cpp's tools (llama-quantize needs its `common` library).
//   verispec-quantize <input.gguf> <output.gguf> <type> [threads]
// Types are llama-quantize's names (Q4_K_M, Q5_K_M, Q6_K, Q8_0, ...). Requantizing is always allowed
// (llama-quantize's --allow-requantize): the embedded pair is Q8_0 already.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "llama.h"

struct NamedType {
  const char* name;
  llama_ftype ftype;
};

static const NamedType kTypes[] = {
    {"Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},     {"Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},     {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S},
    {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M}, {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S}, {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M},
    {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K},
};

static bool parseType(const char* name, llama_ftype* out) {
  for (const NamedType& t : kTypes) {
    if (strcmp(t.name, name) == 0) {
      *out = t.ftype;
      return true;
    }
  }
  return false;
}

static void quietLog(ggml_log_level level, const char* text, void*) {
  if (level >= GGML_LOG_LEVEL_WARN) fputs(text, stderr);
}

int main(int argc, char** argv) {
  llama_model_quantize_params params = llama_model_quantize_default_params();
  if (argc < 4 || argc > 5 || !parseType(argv[3], &params.ftype)) {
    fprintf(stderr, "usage: verispec-quantize <input.gguf> <output.gguf> <Q4_0|Q8_0|Q4_K_S|Q4_K_M|Q5_K_S|Q5_K_M|Q6_K> [threads]\n");
    return 2;
  }
  params.allow_requantize = true;
  if (argc == 5) params.nthread = atoi(argv[4]);
  llama_log_set(quietLog, nullptr);
  llama_backend_init();
  const uint32_t failed = llama_model_quantize(argv[1], argv[2], &params);
  llama_backend_free();
  if (failed) {
    fprintf(stderr, "verispec-quantize: could not quantize %s to %s\n", argv[1], argv[3]);
    return 1;
  }
  return 0;
}
