// The generic build of the SIMD kernels (VK_V = 4 floats per register).
#include "simd_internal.h"

#define VK_V 4
#define VK_NAME(x) x##_generic

#include "simd_vector.h"
#include "depthwise_body.h"
#include "depthwise_backward_body.h"
#include "epilogue_body.h"
