// The avx2 build of the SIMD kernels (VK_V = 8 floats per register).
#if defined(__x86_64__)

#include "simd_internal.h"

#define VK_V 8
#define VK_NAME(x) x##_avx2

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "simd_vector.h"
#include "depthwise_body.h"
#include "depthwise_backward_body.h"
#include "epilogue_body.h"
#pragma clang attribute pop

#endif
