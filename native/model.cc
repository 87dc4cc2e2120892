// Loading models, their description, vocabulary and tokenizer.
#include <dlfcn.h>

#include <cstring>

#include "binding.h"

namespace verispec {

// The folder holding the libllama this addon was linked against (its ggml backends lie beside it).
std::string llama_library_dir() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void *>(&llama_backend_init), &info) || !info.dli_fname) return "";
  std::string path = info.dli_fname;
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// init(verbose) -> number of backend devices: load the ggml backends shipped beside libllama, then init llama.
napi_value Init(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  install_log(!args.empty() && get_bool(env, args[0]));
  ggml_backend_load_all_from_path(llama_library_dir().c_str());
  llama_backend_init();
  napi_value count = make_i32(env, (int64_t)ggml_backend_dev_count());
  return count;
}

namespace {

void finalize_model(napi_env, void *data, void *) {
  auto *m = static_cast<Model *>(data);
  if (m->model) llama_model_free(m->model);
  delete m;
}

}  // namespace

// Reads loadModel's options object: { devices?: string[] (device names, in split order), tensorSplit?: number[], vocabOnly?: boolean,
// extraBuffers?: boolean }.
static std::string read_load_options(napi_env env, napi_value options, llama_model_params &params, std::vector<ggml_backend_dev_t> &devices,
                              std::vector<float> &split) {
  napi_valuetype type;
  napi_typeof(env, options, &type);
  if (type != napi_object) return "";
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, options, "vocabOnly", &has) == napi_ok && has) {
    napi_get_named_property(env, options, "vocabOnly", &v);
    params.vocab_only = get_bool(env, v);
  }
  // Extra buffer types repack weights for the CPU's matrix kernels (Q4_K, IQ4_NL, ... on AVX2), whose one-row and
  // many-row kernels round differently: off for batch invariance.
  if (napi_has_named_property(env, options, "extraBuffers", &has) == napi_ok && has) {
    napi_get_named_property(env, options, "extraBuffers", &v);
    params.use_extra_bufts = get_bool(env, v);
  }
  if (napi_has_named_property(env, options, "devices", &has) == napi_ok && has) {
    napi_get_named_property(env, options, "devices", &v);
    uint32_t n = 0;
    napi_get_array_length(env, v, &n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value name;
      napi_get_element(env, v, i, &name);
      std::string device = get_string(env, name);
      ggml_backend_dev_t dev = ggml_backend_dev_by_name(device.c_str());
      if (!dev) return "no backend device named " + device;
      devices.push_back(dev);
    }
    devices.push_back(nullptr);
    params.devices = devices.data();
  }
  if (napi_has_named_property(env, options, "tensorSplit", &has) == napi_ok && has) {
    napi_get_named_property(env, options, "tensorSplit", &v);
    uint32_t n = 0;
    napi_get_array_length(env, v, &n);
    if (n > llama_max_devices()) return "tensorSplit has more entries than llama.cpp's " + std::to_string(llama_max_devices()) + " devices";
    split.assign(llama_max_devices(), 0.0f);
    for (uint32_t i = 0; i < n; i++) {
      napi_value x;
      double d = 0;
      napi_get_element(env, v, i, &x);
      napi_get_value_double(env, x, &d);
      split[i] = (float)d;
    }
    params.tensor_split = split.data();
  }
  return "";
}

// loadModel(path, nGpuLayers, options?) -> external Model
napi_value LoadModel(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 3);
  if (args.size() < 2) return throw_error(env, "loadModel(path, nGpuLayers, options?) needs at least 2 arguments");
  std::string path = get_string(env, args[0]);
  llama_model_params params = llama_model_default_params();
  params.n_gpu_layers = get_i32(env, args[1]);
  std::vector<ggml_backend_dev_t> devices;
  std::vector<float> split;
  if (args.size() > 2) {
    std::string bad = read_load_options(env, args[2], params, devices, split);
    if (!bad.empty()) return throw_error(env, bad);
  }
  take_last_error();
  llama_model *model = llama_model_load_from_file(path.c_str(), params);
  if (!model) {
    std::string why = take_last_error();
    return throw_error(env, "llama.cpp could not load " + path + (why.empty() ? "" : ": " + why));
  }
  auto *m = new Model{model, llama_model_get_vocab(model)};
  napi_value out;
  CHECK(napi_create_external(env, m, finalize_model, nullptr, &out));
  return out;
}

napi_value FreeModel(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  auto *m = args.empty() ? nullptr : unwrap<Model>(env, args[0]);
  if (m && m->model) {
    llama_model_free(m->model);
    m->model = nullptr;
  }
  return nullptr;
}

Model *live_model(napi_env env, napi_value v) {
  auto *m = unwrap<Model>(env, v);
  if (!m || !m->model) {
    napi_throw_error(env, nullptr, "the model has been disposed");
    return nullptr;
  }
  return m;
}

napi_value ModelInfo(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  Model *m = args.empty() ? nullptr : live_model(env, args[0]);
  if (!m) return nullptr;
  napi_value out;
  CHECK(napi_create_object(env, &out));
  char desc[256] = {0};
  llama_model_desc(m->model, desc, sizeof desc);
  napi_value desc_v;
  napi_create_string_utf8(env, desc, NAPI_AUTO_LENGTH, &desc_v);
  set_prop(env, out, "description", desc_v);
  set_prop(env, out, "vocabSize", make_i32(env, llama_vocab_n_tokens(m->vocab)));
  set_prop(env, out, "trainContextSize", make_i32(env, llama_model_n_ctx_train(m->model)));
  set_prop(env, out, "embeddingSize", make_i32(env, llama_model_n_embd(m->model)));
  set_prop(env, out, "parameters", make_f64(env, (double)llama_model_n_params(m->model)));
  set_prop(env, out, "sizeBytes", make_f64(env, (double)llama_model_size(m->model)));
  set_prop(env, out, "bos", make_i32(env, llama_vocab_bos(m->vocab)));
  set_prop(env, out, "eos", make_i32(env, llama_vocab_eos(m->vocab)));
  set_prop(env, out, "eot", make_i32(env, llama_vocab_eot(m->vocab)));
  set_prop(env, out, "vocabType", make_i32(env, llama_vocab_type(m->vocab)));
  return out;
}

// vocabulary(model) -> { texts: string[], pieces: Buffer[], eog: Uint8Array, attrs: Int32Array }
napi_value Vocabulary(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  Model *m = args.empty() ? nullptr : live_model(env, args[0]);
  if (!m) return nullptr;
  int32_t n = llama_vocab_n_tokens(m->vocab);
  napi_value texts, pieces, eog_buf, eog, attr_buf, attrs, out;
  CHECK(napi_create_array_with_length(env, n, &texts));
  CHECK(napi_create_array_with_length(env, n, &pieces));
  void *eog_data = nullptr, *attr_data = nullptr;
  CHECK(napi_create_arraybuffer(env, n, &eog_data, &eog_buf));
  CHECK(napi_create_typedarray(env, napi_uint8_array, n, eog_buf, 0, &eog));
  CHECK(napi_create_arraybuffer(env, n * 4, &attr_data, &attr_buf));
  CHECK(napi_create_typedarray(env, napi_int32_array, n, attr_buf, 0, &attrs));
  std::vector<char> buf(256);
  for (int32_t t = 0; t < n; t++) {
    napi_value text, piece;
    napi_create_string_utf8(env, llama_vocab_get_text(m->vocab, t), NAPI_AUTO_LENGTH, &text);
    napi_set_element(env, texts, t, text);
    int32_t len = llama_token_to_piece(m->vocab, t, buf.data(), (int32_t)buf.size(), 0, false);
    if (len < 0) {
      buf.resize(-len);
      len = llama_token_to_piece(m->vocab, t, buf.data(), (int32_t)buf.size(), 0, false);
    }
    napi_create_buffer_copy(env, len, buf.data(), nullptr, &piece);
    napi_set_element(env, pieces, t, piece);
    static_cast<uint8_t *>(eog_data)[t] = llama_vocab_is_eog(m->vocab, t) ? 1 : 0;
    static_cast<int32_t *>(attr_data)[t] = llama_vocab_get_attr(m->vocab, t);
  }
  CHECK(napi_create_object(env, &out));
  set_prop(env, out, "texts", texts);
  set_prop(env, out, "pieces", pieces);
  set_prop(env, out, "eog", eog);
  set_prop(env, out, "attrs", attrs);
  return out;
}

// tokenize(model, text, addSpecial, parseSpecial) -> Int32Array
napi_value Tokenize(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 4);
  if (args.size() < 4) return throw_error(env, "tokenize(model, text, addSpecial, parseSpecial) needs 4 arguments");
  Model *m = live_model(env, args[0]);
  if (!m) return nullptr;
  std::string text = get_string(env, args[1]);
  bool add_special = get_bool(env, args[2]);
  bool parse_special = get_bool(env, args[3]);
  std::vector<llama_token> tokens(text.size() + 8);
  int32_t n = llama_tokenize(m->vocab, text.data(), (int32_t)text.size(), tokens.data(), (int32_t)tokens.size(),
                             add_special, parse_special);
  if (n < 0) {
    tokens.resize(-n);
    n = llama_tokenize(m->vocab, text.data(), (int32_t)text.size(), tokens.data(), (int32_t)tokens.size(),
                       add_special, parse_special);
  }
  if (n < 0) return throw_error(env, "llama.cpp failed to tokenize the text");
  napi_value ab, out;
  void *data = nullptr;
  CHECK(napi_create_arraybuffer(env, (size_t)n * 4, &data, &ab));
  if (n > 0) std::memcpy(data, tokens.data(), (size_t)n * 4);
  CHECK(napi_create_typedarray(env, napi_int32_array, n, ab, 0, &out));
  return out;
}

}  // namespace verispec
