{
  "variables": {
    "common_cflags": ["-O3", "-fPIC", "-std=c++17", "-fno-math-errno"],
    "addon_api_include": "<!(node -p \"require('node-addon-api').include_dir\")",
    # Every architecture: the N-API layer, thread pool, drivers and the portable C++ kernels.
    "portable_sources": ["native/addon.cc", "native/pool.cc", "native/cpu.cc", "native/gemm.cc", "native/elementwise.cc"],
    # x86-64 only, one static library per instruction set (own compiler flags); the
    # drivers dispatch to them at run time after checking the CPU.
    "x86_avx512_sources": ["native/gemm_avx512.cc", "native/elementwise_avx512.cc"],
    "x86_avx512_cflags": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2", "-mfma"],
    "x86_avx2_sources": ["native/gemm_avx2.cc", "native/elementwise_avx2.cc"],
    "x86_avx2_cflags": ["-mavx2", "-mfma"]
  },
  # macOS builds through Xcode settings, which ignore cflags_cc.
  "target_defaults": {
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "MACOSX_DEPLOYMENT_TARGET": "10.15",
      "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno"]
    }
  },
  "targets": [
    {
      "target_name": "electra_native",
      "sources": ["<@(portable_sources)"],
      "include_dirs": ["<(addon_api_include)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["<@(common_cflags)"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["electra_avx512", "electra_avx2"],
          "defines": ["ELECTRA_X86_SIMD=1"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "electra_avx512",
          "type": "static_library",
          "sources": ["<@(x86_avx512_sources)"],
          "include_dirs": ["<(addon_api_include)"],
          "cflags_cc": ["<@(common_cflags)", "<@(x86_avx512_cflags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "<@(x86_avx512_cflags)"]},
          "cflags_cc!": ["-fno-exceptions"]
        },
        {
          "target_name": "electra_avx2",
          "type": "static_library",
          "sources": ["<@(x86_avx2_sources)"],
          "include_dirs": ["<(addon_api_include)"],
          "cflags_cc": ["<@(common_cflags)", "<@(x86_avx2_cflags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "<@(x86_avx2_cflags)"]},
          "cflags_cc!": ["-fno-exceptions"]
        }
      ]
    }]
  ]
}
