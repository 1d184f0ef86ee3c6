// The avx512 build of the SIMD kernels (VK_V = 16 floats per register).
#if defined(__x86_64__)

#include "simd_internal.h"

#define VK_V 16
#define VK_NAME(x) x##_avx512

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "simd_vector.h"
#include "depthwise_body.h"
#include "depthwise_backward_body.h"
#include "epilogue_body.h"
#pragma clang attribute pop

#endif
