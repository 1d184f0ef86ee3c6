#ifndef VISION_SIMD_INTERNAL_H
#define VISION_SIMD_INTERNAL_H
// Declarations of the per-ISA builds of each kernel (defined by including a
// *_body.h file into simd_target_<isa>.c) and their dispatcher's helpers.

#include "vision_simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VK_DECLARE_KERNELS(SUFFIX) \
    int vk_depthwise_conv2d_##SUFFIX(const float *input, const float *weight, const float *bias, float *output, \
                                     const vk_conv_geometry *geometry, const vk_depthwise_window *window, \
                                     int activation, long plane_begin, long plane_end); \
    void vk_bias_residual_activation_##SUFFIX(float *out, long rows, long out_stride, long count, const float *bias, \
                                              const float *residual, long residual_stride, int activation); \
    void vk_depthwise_conv2d_backward_##SUFFIX(const float *input, const float *weight, const float *grad_output, \
                                               float *grad_input, float *grad_weight, const vk_conv_geometry *geometry, \
                                               const long *tap_lo, const long *tap_hi, long ic_begin, long ic_end);

VK_DECLARE_KERNELS(generic)
#if defined(__x86_64__)
VK_DECLARE_KERNELS(avx2)
VK_DECLARE_KERNELS(avx512)
#endif

#endif
