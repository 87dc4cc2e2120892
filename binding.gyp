{
  "targets": [
    {
      "target_name": "verispec_llama",
      "sources": ["native/register.cc", "native/logging.cc", "native/model.cc", "native/context.cc", "native/decode.cc", "native/staging.cc", "native/rows.cc", "native/sampling.cc", "native/devices.cc", "native/invariance.cc", "native/eagle.cc"],
      "include_dirs": [
        "<!(node scripts/llamaPaths.mjs include)",
        "<!(node scripts/llamaPaths.mjs ggml-include)"
      ],
      "libraries": ["<!@(node scripts/llamaPaths.mjs libs)"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
