#ifndef VISION_SIMD_H
#define VISION_SIMD_H
// Hot CPU loops compiled three times: for baseline x86-64 (SSE2, "generic"),
// for AVX2+FMA and for AVX-512F (function-level target attributes, see
// simd_target_*.c), so one binary runs on any x86-64 and the caller picks the
// widest the CPU has (vk_isa_supported) per call. On other architectures every
// ISA code runs the generic build.
//
// Layouts are those of VisionKernels: feature maps NCHW Float32, row-major.

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set codes; the raw values of VisionKernels' InstructionSet.
enum {
    VK_ISA_GENERIC = 0,
    VK_ISA_AVX2 = 1,   // AVX2 + FMA
    VK_ISA_AVX512 = 2, // AVX-512F
};

/// Activation codes; the raw values of VisionKernels' KernelActivation.
enum {
    VK_ACT_IDENTITY = 0, VK_ACT_RELU, VK_ACT_RELU6, VK_ACT_HARDSWISH, VK_ACT_HARDSIGMOID, VK_ACT_SIGMOID,
};

/// One 2-D convolution's shapes (VisionKernels' ConvGeometry, already checked):
/// input [batch, in_channels, in_h, in_w], weight [out_channels, in_channels/groups, kernel_h, kernel_w],
/// output [batch, out_channels, out_h, out_w].
typedef struct {
    long batch, in_channels, in_h, in_w;
    long out_channels, kernel_h, kernel_w;
    long stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    long groups, out_h, out_w;
} vk_conv_geometry;

/// 1 when this CPU (and the OS, for the wider registers' state) runs `isa`, else 0.
int vk_isa_supported(int isa);

/// A band of a depthwise convolution's rows (the fused inverted-residual block computes
/// one band at a time): input plane q (= n * in_channels + c) starts at
/// input + q * in_plane_stride and holds image rows in_row0, in_row0 + 1, ... (in_w floats
/// each; every row the band reads must be there), output rows [oy_begin, oy_end) of
/// plane p go to output + p * out_plane_stride, row oy at (oy - oy_begin) * out_w.
typedef struct {
    long in_plane_stride, in_row0;
    long out_plane_stride, oy_begin, oy_end;
} vk_depthwise_window;

/// Depthwise convolution (one input channel per group, channel multiplier
/// out_channels / groups) of output planes [plane_begin, plane_end), a plane
/// being one (n, oc) pair in n-major order: output[p] = act(bias[oc] + sum of taps).
/// weight [out_channels, kernel_h * kernel_w]; bias [out_channels] or NULL;
/// window NULL for whole planes (input and output NCHW as in the geometry).
/// Returns 0, or -1 when its scratch rows could not be allocated (nothing written).
int vk_depthwise_conv2d(int isa, const float *input, const float *weight, const float *bias, float *output,
                        const vk_conv_geometry *geometry, const vk_depthwise_window *window, int activation,
                        long plane_begin, long plane_end);

/// The epilogue of a GEMM block: out[r * out_stride + c] = act(out[...] + bias[r]
/// (+ residual[r * residual_stride + c])) for r < rows, c < count. bias [rows] or NULL
/// (0); residual NULL for none. Same operation order as bias, then add, then activation.
void vk_bias_residual_activation(int isa, float *out, long rows, long out_stride, long count, const float *bias,
                                 const float *residual, long residual_stride, int activation);

/// Depthwise convolution backward for input channels [ic_begin, ic_end) (each
/// thread its own range: no two write the same gradient): grad_input [N, C_in, H, W]
/// and grad_weight [C_out, kH * kW] accumulated into, either may be NULL.
/// tap_lo[t], tap_hi[t]: the output columns [lo, hi) whose tap t (ky * kW + kx)
/// lands inside the input row.
void vk_depthwise_conv2d_backward(int isa, const float *input, const float *weight, const float *grad_output,
                                  float *grad_input, float *grad_weight, const vk_conv_geometry *geometry,
                                  const long *tap_lo, const long *tap_hi, long ic_begin, long ic_end);

/// mremap(2) with MREMAP_MAYMOVE (variadic in C, so Swift cannot call it): the block's
/// resident pages move to the returned address without a copy, a grown tail is fresh
/// zero pages, a shrunk tail goes back to the kernel. NULL on failure (p is unchanged).
/// For LargeBlockCache (memory_blocks.c).
void *vk_remap_block(void *p, unsigned long old_bytes, unsigned long new_bytes);

#ifdef __cplusplus
}
#endif

#endif
