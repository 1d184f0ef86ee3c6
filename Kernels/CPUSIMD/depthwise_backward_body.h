// Depthwise convolution backward, one ISA build (see simd_vector.h). Included by
// simd_target_<isa>.c with VK_V and VK_NAME(x) (x##_<isa>) defined.
//
// For input channels [ic_begin, ic_end) and every output channel oc = ic * M + m
// they feed (M = out_channels / groups), per tap (ky, kx), per image and output row:
//   grad_input row iy  [ox * stride_w + off_x] += w[oc, tap] * dy[oy, ox]
//   grad_weight[oc, tap]                      += sum over ox of x[iy, ...] * dy[oy, ox]
// over the output columns [lo, hi) whose tap lands inside the input row (`lo`, `hi`
// from the caller's validOutputRange, per tap, passed as tables). The Swift loop it
// replaces (Conv2DDepthwiseBackward.swift) summed x * dy one scalar at a time; here the
// dot products run in VK_V-wide registers, two per tap, summed across lanes once per
// output channel, so the rounding differs from the reference by a few ulps, as any
// reordered float sum does.
// Layouts: input / grad_input [N, C_in, H, W]; weight / grad_weight [C_out, kH * kW];
// grad_output [N, C_out, H_out, W_out]. grad_input or grad_weight may be NULL.

/// The first `count` (< VK_V) lanes p[0], p[st], ... (the rest 0).
VK_INLINE vf VK_NAME(dwb_load_partial)(const float *p, long count, long st) {
    vf r = vsplat(0);
    for (long l = 0; l < count; l++) r[l] = p[l * st];
    return r;
}

/// acc[0] and acc[1] += lanes of x[i * st] * dy[i] for i < count (their lane sum is the
/// dot product): the per-tap sums stay in registers across rows and are reduced once
/// per output channel, rather than once per row.
VK_INLINE void VK_NAME(dwb_dot)(const float *x, const float *dy, long count, long st, vf *acc) {
    vf a0 = acc[0], a1 = acc[1];
    long i = 0;
    if (st == 1) {
        for (; i + 2 * VK_V <= count; i += 2 * VK_V) {
            a0 = a0 + vload(x + i) * vload(dy + i);
            a1 = a1 + vload(x + i + VK_V) * vload(dy + i + VK_V);
        }
        for (; i + VK_V <= count; i += VK_V) a0 = a0 + vload(x + i) * vload(dy + i);
    } else if (st == 2) {
        // Strictly below count: the two loads end at x[2 * (i + VK_V) - 1], which must not
        // pass the last element read, x[2 * (count - 1)].
        for (; i + VK_V < count; i += VK_V) {
            const float *p = x + 2 * i;
            const vf even = __builtin_shufflevector(vload(p), vload(p + VK_V), VK_EVENS);
            a0 = a0 + even * vload(dy + i);
        }
    } else {
        for (; i + VK_V <= count; i += VK_V) a0 = a0 + vload_strided(x + i * st, st) * vload(dy + i);
    }
    if (i < count) {
        a1 = a1 + VK_NAME(dwb_load_partial)(x + i * st, count - i, st) * VK_NAME(dwb_load_partial)(dy + i, count - i, 1);
    }
    acc[0] = a0;
    acc[1] = a1;
}

/// dx[i * st] += w * dy[i] for i < count.
VK_INLINE void VK_NAME(dwb_axpy)(float *dx, const float *dy, long count, long st, float w) {
    long i = 0;
    if (st == 1) {
        const vf wv = vsplat(w);
        for (; i + 2 * VK_V <= count; i += 2 * VK_V) {
            vstore(dx + i, vload(dx + i) + wv * vload(dy + i));
            vstore(dx + i + VK_V, vload(dx + i + VK_V) + wv * vload(dy + i + VK_V));
        }
        for (; i + VK_V <= count; i += VK_V) vstore(dx + i, vload(dx + i) + wv * vload(dy + i));
    }
    for (; i < count; i++) dx[i * st] += w * dy[i];
}

void VK_NAME(vk_depthwise_conv2d_backward)(const float *input, const float *weight, const float *grad_output,
                                           float *grad_input, float *grad_weight, const vk_conv_geometry *g,
                                           const long *tap_lo, const long *tap_hi, long ic_begin, long ic_end) {
    const long multiplier = g->out_channels / g->groups;
    const long taps = g->kernel_h * g->kernel_w;
    const long out_plane = g->out_h * g->out_w, in_plane = g->in_h * g->in_w;
    const long sw = g->stride_w;
    // Per-tap partial sums of grad_weight for one output channel, two vectors per tap
    // (taps <= 32 on the stack, a heap array beyond).
    vf stack_sums[64];
    vf *dw_sums = taps <= 32 ? stack_sums : malloc((size_t)(2 * taps) * sizeof(vf));
    if (!dw_sums) abort();
    for (long ic = ic_begin; ic < ic_end; ic++) {
        for (long m = 0; m < multiplier; m++) {
            const long oc = ic * multiplier + m;
            const float *w = weight + oc * taps;
            for (long t = 0; t < 2 * taps; t++) dw_sums[t] = vsplat(0);
            // Output row by output row, every tap: the gradient row and the kH input
            // rows it touches stay in L1 (a tap-major order streamed whole planes).
            // Per tap the sums still come in (n, oy) order.
            for (long n = 0; n < g->batch; n++) {
                const float *dy_plane = grad_output + (n * g->out_channels + oc) * out_plane;
                const long plane_offset = (n * g->in_channels + ic) * in_plane;
                for (long oy = 0; oy < g->out_h; oy++) {
                    const float *dy_row = dy_plane + oy * g->out_w;
                    for (long ky = 0; ky < g->kernel_h; ky++) {
                        const long iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
                        if (iy < 0 || iy >= g->in_h) continue;
                        for (long kx = 0; kx < g->kernel_w; kx++) {
                            const long tap = ky * g->kernel_w + kx;
                            const long lo = tap_lo[tap], hi = tap_hi[tap];
                            if (lo >= hi) continue;
                            const long row_offset = plane_offset + iy * g->in_w + kx * g->dilation_w - g->pad_w + lo * sw;
                            if (grad_input) VK_NAME(dwb_axpy)(grad_input + row_offset, dy_row + lo, hi - lo, sw, w[tap]);
                            if (grad_weight) VK_NAME(dwb_dot)(input + row_offset, dy_row + lo, hi - lo, sw, dw_sums + 2 * tap);
                        }
                    }
                }
            }
            if (grad_weight) {
                for (long t = 0; t < taps; t++) {
                    const vf a = dw_sums[2 * t] + dw_sums[2 * t + 1];
                    float sum = 0;
                    for (int l = 0; l < VK_V; l++) sum += a[l];
                    grad_weight[oc * taps + t] += sum;
                }
            }
        }
    }
    if (dw_sums != stack_sums) free(dw_sums);
}
