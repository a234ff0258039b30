{
  "variables": {
    "common_cflags": ["-O3", "-fPIC", "-std=c++17", "-fno-math-errno"]
  },
  "targets": [
    {
      "target_name": "electra_avx512",
      "type": "static_library",
      "sources": ["native/gemm_avx512.cc", "native/elementwise_avx512.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags_cc": ["<@(common_cflags)", "-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2", "-mfma"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "electra_avx2",
      "type": "static_library",
      "sources": ["native/gemm_avx2.cc", "native/elementwise_avx2.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags_cc": ["<@(common_cflags)", "-mavx2", "-mfma"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "electra_bf16_avx512",
      "type": "static_library",
      "sources": ["native/gemm_bf16_avx512.cc"],
      "cflags_cc": ["<@(common_cflags)", "-ffp-contract=off", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512bf16", "-mavx2", "-mfma"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "electra_bf16_avx2",
      "type": "static_library",
      "sources": ["native/gemm_bf16_avx2.cc"],
      "cflags_cc": ["<@(common_cflags)", "-ffp-contract=off", "-mavx2", "-mfma"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "electra_int8_avx512",
      "type": "static_library",
      "sources": ["native/gemm_int8_avx512.cc"],
      "cflags_cc": ["<@(common_cflags)", "-ffp-contract=off", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni", "-mavx2", "-mfma"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "electra_int8_avx2",
      "type": "static_library",
      "sources": ["native/gemm_int8_avx2.cc"],
      "cflags_cc": ["<@(common_cflags)", "-ffp-contract=off", "-mavx2", "-mfma"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "electra_lowp",
      "type": "static_library",
      "sources": ["native/gemm_bf16.cc", "native/gemm_int8.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["<@(common_cflags)", "-ffp-contract=off"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "electra_native",
      "sources": ["native/addon.cc", "native/pool.cc", "native/cpu.cc", "native/gemm.cc", "native/elementwise.cc"],
      "dependencies": ["electra_avx512", "electra_avx2", "electra_lowp", "electra_bf16_avx512", "electra_bf16_avx2", "electra_int8_avx512", "electra_int8_avx2"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["<@(common_cflags)"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["-pthread"]
    }
  ]
}
