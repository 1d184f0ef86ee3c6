// CPU feature detection and the per-ISA dispatch of each kernel. An ISA the CPU
// lacks is never run: vk_isa_supported gates it (the Swift side checks once, when
// an InstructionSet value is made, and these functions fall back to generic anyway).

#include "simd_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>

/// XCR0: which register states the OS saves on context switches (bit 1 SSE, 2 AVX,
/// 5-7 AVX-512's opmask and upper registers). xgetbv by opcode: no target attribute needed.
static unsigned long long read_xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static int detect_isa_support(int isa) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    const unsigned long long xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (isa == VK_ISA_AVX2) return avx2 && fma;
    if (isa == VK_ISA_AVX512) return avx2 && fma && avx512f && (xcr0 & 0xe6) == 0xe6;
    return 0;
}
#endif

/// Bit (1 << isa) set when supported, plus bit 31 once computed: cpuid is slow in a VM
/// (a hypervisor exit), so it runs once per process; racing first calls compute the same value.
static int isa_support_bits = 0;

int vk_isa_supported(int isa) {
    if (isa == VK_ISA_GENERIC) return 1;
    if (isa != VK_ISA_AVX2 && isa != VK_ISA_AVX512) return 0;
    int bits = __atomic_load_n(&isa_support_bits, __ATOMIC_RELAXED);
    if (!bits) {
        bits = 1 << 31 | 1 << VK_ISA_GENERIC;
#if defined(__x86_64__)
        if (detect_isa_support(VK_ISA_AVX2)) bits |= 1 << VK_ISA_AVX2;
        if (detect_isa_support(VK_ISA_AVX512)) bits |= 1 << VK_ISA_AVX512;
#endif
        __atomic_store_n(&isa_support_bits, bits, __ATOMIC_RELAXED);
    }
    return (bits >> isa) & 1;
}

int vk_depthwise_conv2d(int isa, const float *input, const float *weight, const float *bias, float *output,
                        const vk_conv_geometry *g, const vk_depthwise_window *window, int activation,
                        long plane_begin, long plane_end) {
#if defined(__x86_64__)
    if (isa == VK_ISA_AVX512 && vk_isa_supported(isa))
        return vk_depthwise_conv2d_avx512(input, weight, bias, output, g, window, activation, plane_begin, plane_end);
    if (isa == VK_ISA_AVX2 && vk_isa_supported(isa))
        return vk_depthwise_conv2d_avx2(input, weight, bias, output, g, window, activation, plane_begin, plane_end);
#endif
    return vk_depthwise_conv2d_generic(input, weight, bias, output, g, window, activation, plane_begin, plane_end);
}

void vk_bias_residual_activation(int isa, float *out, long rows, long out_stride, long count, const float *bias,
                                 const float *residual, long residual_stride, int activation) {
#if defined(__x86_64__)
    if (isa == VK_ISA_AVX512 && vk_isa_supported(isa)) {
        vk_bias_residual_activation_avx512(out, rows, out_stride, count, bias, residual, residual_stride, activation);
        return;
    }
    if (isa == VK_ISA_AVX2 && vk_isa_supported(isa)) {
        vk_bias_residual_activation_avx2(out, rows, out_stride, count, bias, residual, residual_stride, activation);
        return;
    }
#endif
    vk_bias_residual_activation_generic(out, rows, out_stride, count, bias, residual, residual_stride, activation);
}

void vk_depthwise_conv2d_backward(int isa, const float *input, const float *weight, const float *grad_output,
                                  float *grad_input, float *grad_weight, const vk_conv_geometry *g,
                                  const long *tap_lo, const long *tap_hi, long ic_begin, long ic_end) {
#if defined(__x86_64__)
    if (isa == VK_ISA_AVX512 && vk_isa_supported(isa)) {
        vk_depthwise_conv2d_backward_avx512(input, weight, grad_output, grad_input, grad_weight, g, tap_lo, tap_hi,
                                            ic_begin, ic_end);
        return;
    }
    if (isa == VK_ISA_AVX2 && vk_isa_supported(isa)) {
        vk_depthwise_conv2d_backward_avx2(input, weight, grad_output, grad_input, grad_weight, g, tap_lo, tap_hi,
                                          ic_begin, ic_end);
        return;
    }
#endif
    vk_depthwise_conv2d_backward_generic(input, weight, grad_output, grad_input, grad_weight, g, tap_lo, tap_hi,
                                         ic_begin, ic_end);
}
