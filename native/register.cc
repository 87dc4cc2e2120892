// verispec's thin N-API binding over llama.cpp's C API: the exported functions.
// It exposes exactly the calls speculative decoding needs: batch decode with
// per-token positions and sequence-id sets, logits rows copied straight into a
// caller-owned Float32Array, and KV-cache edits (seq_rm / seq_cp / seq_keep).
// Every argument is checked before it reaches llama.cpp, because several
// llama.cpp asserts abort the whole process.
#include "binding.h"

namespace {

using namespace verispec;

napi_value Register(napi_env env, napi_value exports) {
  struct Entry {
    const char *name;
    napi_callback fn;
  };
  const Entry entries[] = {
      {"init", Init},           {"loadModel", LoadModel},       {"freeModel", FreeModel},
      {"modelInfo", ModelInfo}, {"vocabulary", Vocabulary},     {"tokenize", Tokenize},
      {"createContext", CreateContext}, {"freeContext", FreeContext}, {"contextInfo", ContextInfo},
      {"decodePass", DecodePass},  {"decodePassSync", DecodePassSync},  {"decodeGreedyRun", DecodeGreedyRun},  {"decodeGreedyRunSync", DecodeGreedyRunSync},  {"decodeSampledRun", DecodeSampledRun},  {"decodeSampledRunSync", DecodeSampledRunSync},  {"contextStats", ContextStats}, {"copyRow", CopyRow}, {"samplingRow", SamplingRow},  {"sampleRow", SampleRow},  {"coupledRow", CoupledRow},  {"seqRemove", SeqRemove},
      {"seqCopy", SeqCopy},     {"seqKeep", SeqKeep},           {"seqPositionMax", SeqPositionMax},
      {"memoryClear", MemoryClear}, {"devices", Devices},       {"buildInfo", BuildInfo},
      {"addRpcServer", AddRpcServer}, {"loadBackend", LoadBackend},
      {"setStockKernels", SetStockKernels},
      {"captureLayers", CaptureLayers}, {"layerFeatures", LayerFeatures}, {"headLayers", HeadLayers},
      {"createHeadContext", CreateHeadContext}, {"headEncode", HeadEncode}, {"headDecode", HeadDecode},
  };
  for (const auto &e : entries) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Register)
