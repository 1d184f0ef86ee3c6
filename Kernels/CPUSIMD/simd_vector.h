// Width-generic vector helpers for one ISA build: the including file defines
// VK_V (floats per register: 4 SSE2, 8 AVX2, 16 AVX-512) and compiles this
// under that ISA's target attribute, so `vf` arithmetic lowers to its
// instructions (and a * b + c to FMA where the target has it: clang's default
// -ffp-contract=on fuses within one expression).


#if VK_V == 4
#define VK_EVENS 0, 2, 4, 6
#define VK_ODDS 1, 3, 5, 7
#elif VK_V == 8
#define VK_EVENS 0, 2, 4, 6, 8, 10, 12, 14
#define VK_ODDS 1, 3, 5, 7, 9, 11, 13, 15
#elif VK_V == 16
#define VK_EVENS 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define VK_ODDS 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#else
#error "VK_V must be 4, 8 or 16"
#endif

#define VK_INLINE static inline __attribute__((always_inline))

/// aligned(4): loads and stores through these types are unaligned accesses.
typedef float vf __attribute__((vector_size(VK_V * 4), aligned(4), may_alias));
typedef int vi __attribute__((vector_size(VK_V * 4), aligned(4), may_alias));

VK_INLINE vf vsplat(float x) { return (vf){0} + x; }
VK_INLINE vf vload(const float *p) { return *(const vf *)p; }
VK_INLINE void vstore(float *p, vf x) { *(vf *)p = x; }
/// Lanes p[0], p[s], p[2s], ... (any stride).
VK_INLINE vf vload_strided(const float *p, long s) {
    vf r;
    for (int l = 0; l < VK_V; l++) r[l] = p[l * s];
    return r;
}
/// m ? a : b per lane (m lanes all-ones or zero, as comparisons give).
VK_INLINE vf vselect(vi m, vf a, vf b) { return (vf)((m & (vi)a) | (~m & (vi)b)); }

/// Same operations and order as KernelActivation's scalar forms (NaN passes through
/// relu and relu6 because `x < 0` and `r > 6` are false for NaN).
VK_INLINE vf vrelu6(vf x) {
    vf r = vselect(x < vsplat(0), vsplat(0), x);
    return vselect(r > vsplat(6), vsplat(6), r);
}

VK_INLINE vf vactivate(vf x, int act) {
    switch (act) {
    case VK_ACT_RELU: return vselect(x < vsplat(0), vsplat(0), x);
    case VK_ACT_RELU6: return vrelu6(x);
    case VK_ACT_HARDSWISH: return x * vrelu6(x + vsplat(3)) / vsplat(6);
    case VK_ACT_HARDSIGMOID: return vrelu6(x + vsplat(3)) / vsplat(6);
    case VK_ACT_SIGMOID: {
        vf r;
        for (int l = 0; l < VK_V; l++) r[l] = 1.0f / (1.0f + expf(-x[l]));
        return r;
    }
    default: return x;
    }
}

/// Stores the first `count` (1...VK_V) lanes of x at p.
VK_INLINE void vstore_partial(float *p, vf x, long count) {
    if (count >= VK_V) {
        vstore(p, x);
    } else {
        float lanes[VK_V];
        vstore(lanes, x);
        memcpy(p, lanes, (size_t)count * sizeof(float));
    }
}
