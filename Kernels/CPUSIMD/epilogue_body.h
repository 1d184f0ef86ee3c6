// The finishing pass after a GEMM (conv and linear), one ISA build (see
// simd_vector.h): out[r, c] = act(out[r, c] + bias[r] (+ residual[r, c])) for
// rows r < rows, columns c < count; out rows `out_stride` floats apart, residual
// rows `residual_stride` apart. Same operation order as the unfused path
// (conv with bias, then add, then activation), so fusing changes no bit.

/// act(x + b (+ r)) for VK_V lanes.
VK_INLINE vf ep_finish(vf x, vf b, const float *res, long i, int has_residual, int act) {
    x = x + b;
    if (has_residual) x = x + vload(res + i);
    return vactivate(x, act);
}

void VK_NAME(vk_bias_residual_activation)(float *out, long rows, long out_stride, long count, const float *bias,
                                          const float *residual, long residual_stride, int act) {
    const int has_residual = residual != NULL;
    for (long r = 0; r < rows; r++) {
        float *p = out + r * out_stride;
        const float *q = has_residual ? residual + r * residual_stride : NULL;
        const vf b = vsplat(bias ? bias[r] : 0.0f);
        long i = 0;
        for (; i + 2 * VK_V <= count; i += 2 * VK_V) {
            const vf y0 = ep_finish(vload(p + i), b, q, i, has_residual, act);
            const vf y1 = ep_finish(vload(p + i + VK_V), b, q, i + VK_V, has_residual, act);
            vstore(p + i, y0);
            vstore(p + i + VK_V, y1);
        }
        for (; i + VK_V <= count; i += VK_V) vstore(p + i, ep_finish(vload(p + i), b, q, i, has_residual, act));
        if (i < count) {
            // The last partial vector through the same lanes (no masked loads in plain C).
            float x[VK_V] = {0}, res[VK_V] = {0};
            memcpy(x, p + i, (size_t)(count - i) * sizeof(float));
            if (has_residual) memcpy(res, q + i, (size_t)(count - i) * sizeof(float));
            vstore_partial(p + i, ep_finish(vload(x), b, res, 0, has_residual, act), count - i);
        }
    }
}
