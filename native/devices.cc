// Backend devices: what the loaded llama.cpp offers (`verispec info`), and RPC servers added as devices.
// The RPC backend is looked up through the backend registry, so this file builds against any llama.cpp:
// one without RPC (node-llama-cpp's prebuilt libraries) answers that it has none.
#include "binding.h"

namespace verispec {

namespace {

const char *device_type_name(enum ggml_backend_dev_type type) {
  switch (type) {
    case GGML_BACKEND_DEVICE_TYPE_CPU:
      return "cpu";
    case GGML_BACKEND_DEVICE_TYPE_GPU:
      return "gpu";
    case GGML_BACKEND_DEVICE_TYPE_IGPU:
      return "igpu";
    default:
      return "accelerator";
  }
}

napi_value make_string(napi_env env, const char *s) {
  napi_value out;
  napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value describe_device(napi_env env, ggml_backend_dev_t dev) {
  napi_value out;
  napi_create_object(env, &out);
  size_t free = 0, total = 0;
  ggml_backend_dev_memory(dev, &free, &total);
  ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
  set_prop(env, out, "name", make_string(env, ggml_backend_dev_name(dev)));
  set_prop(env, out, "description", make_string(env, ggml_backend_dev_description(dev)));
  set_prop(env, out, "type", make_string(env, device_type_name(ggml_backend_dev_type(dev))));
  set_prop(env, out, "backend", make_string(env, reg ? ggml_backend_reg_name(reg) : ""));
  set_prop(env, out, "memoryFree", make_f64(env, (double)free));
  set_prop(env, out, "memoryTotal", make_f64(env, (double)total));
  return out;
}

using rpc_add_server_fn = ggml_backend_reg_t (*)(const char *endpoint);

}  // namespace

// devices() -> [{ name, description, type, backend, memoryFree, memoryTotal }]
napi_value Devices(napi_env env, napi_callback_info) {
  size_t n = ggml_backend_dev_count();
  napi_value out;
  CHECK(napi_create_array_with_length(env, n, &out));
  for (size_t i = 0; i < n; i++) napi_set_element(env, out, (uint32_t)i, describe_device(env, ggml_backend_dev_get(i)));
  return out;
}

// buildInfo() -> { systemInfo, libraryDir, backends: string[], rpc: boolean, gpuOffload: boolean, batchInvariance: boolean,
// stockPasses: boolean, cpuInvariance: boolean }
// batchInvariance: linked against verispec's patched llama.cpp (scripts/llamaPatches.mjs, built by scripts/buildLlama.mjs);
// stockPasses: its CUDA backend lets prefills and drafters run the stock kernels under batch invariance (invariance.cc);
// cpuInvariance: its CPU backend takes the reference kernels under batch invariance (scripts/llamaPatches/cpu.mjs).
napi_value BuildInfo(napi_env env, napi_callback_info) {
  napi_value out, backends;
  CHECK(napi_create_object(env, &out));
  size_t n = ggml_backend_reg_count();
  CHECK(napi_create_array_with_length(env, n, &backends));
  for (size_t i = 0; i < n; i++) napi_set_element(env, backends, (uint32_t)i, make_string(env, ggml_backend_reg_name(ggml_backend_reg_get(i))));
  napi_value rpc, gpu, invariance, cpu_invariance;
  napi_get_boolean(env, ggml_backend_reg_by_name("RPC") != nullptr, &rpc);
  napi_get_boolean(env, llama_supports_gpu_offload(), &gpu);
#ifdef VERISPEC_LLAMA_PATCHES
  napi_get_boolean(env, true, &invariance);
#else
  napi_get_boolean(env, false, &invariance);
#endif
#ifdef VERISPEC_CPU_INVARIANCE
  napi_get_boolean(env, true, &cpu_invariance);
#else
  napi_get_boolean(env, false, &cpu_invariance);
#endif
  set_prop(env, out, "systemInfo", make_string(env, llama_print_system_info()));
  set_prop(env, out, "libraryDir", make_string(env, llama_library_dir().c_str()));
  set_prop(env, out, "backends", backends);
  set_prop(env, out, "rpc", rpc);
  set_prop(env, out, "gpuOffload", gpu);
  set_prop(env, out, "batchInvariance", invariance);
  napi_value stock;
  napi_get_boolean(env, stock_pass_available(), &stock);
  set_prop(env, out, "stockPasses", stock);
  set_prop(env, out, "cpuInvariance", cpu_invariance);
  return out;
}

// loadBackend(path) -> the backend's name: loads a ggml backend module (the RPC backend built by scripts/buildRpc.mjs).
napi_value LoadBackend(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  if (args.empty()) return throw_error(env, "loadBackend(path) needs 1 argument");
  std::string path = get_string(env, args[0]);
  take_last_error();
  ggml_backend_reg_t reg = ggml_backend_load(path.c_str());
  if (!reg) {
    std::string why = take_last_error();
    return throw_error(env, "ggml could not load the backend " + path + (why.empty() ? "" : ": " + why));
  }
  return make_string(env, ggml_backend_reg_name(reg));
}

// addRpcServer(endpoint) -> names of the devices that server adds. The caller checks first that the server
// answers: llama.cpp aborts the process when it cannot connect.
napi_value AddRpcServer(napi_env env, napi_callback_info info) {
  auto args = get_args(env, info, 1);
  if (args.empty()) return throw_error(env, "addRpcServer(endpoint) needs 1 argument");
  std::string endpoint = get_string(env, args[0]);
  ggml_backend_reg_t rpc = ggml_backend_reg_by_name("RPC");
  if (!rpc) return throw_error(env, "this llama.cpp build has no RPC backend (node-llama-cpp's prebuilt libraries lack it); build it with `npm run build:rpc`");
  auto add = reinterpret_cast<rpc_add_server_fn>(ggml_backend_reg_get_proc_address(rpc, "ggml_backend_rpc_add_server"));
  if (!add) return throw_error(env, "the RPC backend does not export ggml_backend_rpc_add_server");
  size_t before = ggml_backend_dev_count();
  ggml_backend_reg_t reg = add(endpoint.c_str());
  if (!reg) return throw_error(env, "llama.cpp could not add the RPC server " + endpoint);
  ggml_backend_register(reg);
  napi_value out;
  size_t added = ggml_backend_dev_count() - before;
  CHECK(napi_create_array_with_length(env, added, &out));
  for (size_t i = 0; i < added; i++) napi_set_element(env, out, (uint32_t)i, make_string(env, ggml_backend_dev_name(ggml_backend_dev_get(before + i))));
  return out;
}

}  // namespace verispec
