{
  "variables": {
    "common_cflags": ["-O3", "-fPIC", "-std=c++17", "-fno-math-errno"],
    "addon_api_include": "<!(node -p \"require('node-addon-api').include_dir\")",
    # Every architecture: the N-API layer, thread pool, drivers and the portable C++ kernels.
    "portable_sources": ["native/addon.cc", "native/pool.cc", "native/cpu.cc", "native/gemm.cc", "native/elementwise.cc"],
    # The bf16 and int8 drivers, every architecture; built without FMA contraction, since their
    # scalar paths define the exact rounding the SIMD kernels and the JS twin reproduce.
    "lowp_sources": ["native/gemm_bf16.cc", "native/gemm_int8.cc"],
    # x86-64 only, one static library per instruction set (own compiler flags); the
    # drivers dispatch to them at run time after checking the CPU.
    "x86_avx512_sources": ["native/gemm_avx512.cc", "native/elementwise_avx512.cc"],
    "x86_avx512_cflags": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2", "-mfma"],
    "x86_avx2_sources": ["native/gemm_avx2.cc", "native/elementwise_avx2.cc"],
    "x86_avx2_cflags": ["-mavx2", "-mfma"],
    "x86_bf16_avx512_cflags": ["-ffp-contract=off", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512bf16", "-mavx2", "-mfma"],
    # The FMA emulation of VDPBF16PS for AVX-512 CPUs: deliberately without -mavx512bf16.
    "x86_bf16_avx512_emulated_cflags": ["-ffp-contract=off", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma"],
    "x86_int8_avx512_cflags": ["-ffp-contract=off", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni", "-mavx2", "-mfma"],
    "x86_int8_amx_cflags": ["-ffp-contract=off", "-mamx-tile", "-mamx-int8", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma"],
    "x86_lowp_avx2_cflags": ["-ffp-contract=off", "-mavx2", "-mfma"]
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
      "target_name": "electra_lowp",
      "type": "static_library",
      "sources": ["<@(lowp_sources)"],
      "include_dirs": ["<(addon_api_include)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["<@(common_cflags)", "-ffp-contract=off"],
      "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "-ffp-contract=off"]},
      "cflags_cc!": ["-fno-exceptions"],
      "conditions": [
        ["target_arch=='x64'", {"defines": ["ELECTRA_X86_SIMD=1"]}]
      ]
    },
    {
      "target_name": "electra_native",
      "sources": ["<@(portable_sources)"],
      "dependencies": ["electra_lowp"],
      "include_dirs": ["<(addon_api_include)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["<@(common_cflags)"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["electra_avx512", "electra_avx2", "electra_bf16_avx512", "electra_bf16_avx512_emulated", "electra_bf16_avx2", "electra_int8_avx512", "electra_int8_amx", "electra_int8_avx2"],
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
        },
        {
          "target_name": "electra_bf16_avx512",
          "type": "static_library",
          "sources": ["native/gemm_bf16_avx512.cc"],
          "cflags_cc": ["<@(common_cflags)", "<@(x86_bf16_avx512_cflags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "<@(x86_bf16_avx512_cflags)"]},
          "cflags_cc!": ["-fno-exceptions"]
        },
        {
          "target_name": "electra_bf16_avx512_emulated",
          "type": "static_library",
          "sources": ["native/gemm_bf16_avx512_emulated.cc"],
          "cflags_cc": ["<@(common_cflags)", "<@(x86_bf16_avx512_emulated_cflags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "<@(x86_bf16_avx512_emulated_cflags)"]},
          "cflags_cc!": ["-fno-exceptions"]
        },
        {
          "target_name": "electra_bf16_avx2",
          "type": "static_library",
          "sources": ["native/gemm_bf16_avx2.cc"],
          "cflags_cc": ["<@(common_cflags)", "<@(x86_lowp_avx2_cflags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "<@(x86_lowp_avx2_cflags)"]},
          "cflags_cc!": ["-fno-exceptions"]
        },
        {
          "target_name": "electra_int8_avx512",
          "type": "static_library",
          "sources": ["native/gemm_int8_avx512.cc"],
          "cflags_cc": ["<@(common_cflags)", "<@(x86_int8_avx512_cflags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "<@(x86_int8_avx512_cflags)"]},
          "cflags_cc!": ["-fno-exceptions"]
        },
        {
          "target_name": "electra_int8_amx",
          "type": "static_library",
          "sources": ["native/gemm_int8_amx.cc"],
          "cflags_cc": ["<@(common_cflags)", "<@(x86_int8_amx_cflags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "<@(x86_int8_amx_cflags)"]},
          "cflags_cc!": ["-fno-exceptions"]
        },
        {
          "target_name": "electra_int8_avx2",
          "type": "static_library",
          "sources": ["native/gemm_int8_avx2.cc"],
          "cflags_cc": ["<@(common_cflags)", "<@(x86_lowp_avx2_cflags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "<@(x86_lowp_avx2_cflags)"]},
          "cflags_cc!": ["-fno-exceptions"]
        }
      ]
    }]
  ]
}
