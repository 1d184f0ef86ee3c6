// Depthwise convolution, one ISA build (see simd_vector.h). Included by
// simd_target_<isa>.c with VK_V and VK_NAME(x) (x##_<isa>) defined.
//
// Per output plane (n, oc), the input rows the plane reads are copied once each
// into zero-padded rows of `wp` floats (a ring of (kH-1)*dilationH + 1 rows:
// every row the current output row needs is resident), so every tap of every
// output lane reads in bounds and padding costs no branches. Each output row is
// computed VK_V * 4 outputs at a time with all kH*kW taps accumulated in
// registers from the bias, then activated and stored once.
// Padded row index j holds input x = j - pad_w (zero outside [0, in_w)); output
// ox's tap (ky, kx) reads j = ox * stride_w + kx * dilation_w of row ky's ring slot
// (stride 2 rows are stored as their even then odd columns: no shuffles per tap).


/// Vectors per block (the remainder switch in dw_row assumes 4).
#define DW_UNROLL 4

/// Tap `kxd` (= kx * dilation_w) of the VK_V outputs from `ox` in ring row `row`.
/// S == 2: the row is stored de-interleaved (see dw_fill_row), so the tap is a
/// contiguous load from its even or odd half; S == 0: any stride `st`, gathered.
VK_INLINE vf dw_tap(const float *row, long ox, long kxd, long half, const int S, long st) {
    if (S == 1) return vload(row + ox + kxd);
    if (S == 2) return vload(row + ((kxd & 1) ? half : 0) + ox + (kxd >> 1));
    return vload_strided(row + ox * st + kxd, st);
}

/// NV vectors of outputs out[ox ..< ox + count] (count > (NV-1) * VK_V): bias plus every
/// tap, accumulated in registers, then activated and stored. Even kernel rows go to
/// acc0 and odd ones to acc1, so each FMA chain is half as long (FMA latency, not
/// throughput, bounds a short row otherwise).
VK_INLINE void dw_block(const float *const *rows, long kh, long K, const float *w, float b, float *out,
                        long ox, long count, long st, long d, long half, int act, const int NV, const int S) {
    vf acc0[NV], acc1[NV];
#pragma clang loop unroll(full)
    for (int u = 0; u < NV; u++) { acc0[u] = vsplat(b); acc1[u] = vsplat(0); }
    long ky = 0;
    for (; ky + 1 < kh; ky += 2) {
        const float *r0 = rows[ky], *r1 = rows[ky + 1];
        const float *w0 = w + ky * K, *w1 = w0 + K;
        for (long kx = 0; kx < K; kx++) {
            const vf wv0 = vsplat(w0[kx]), wv1 = vsplat(w1[kx]);
#pragma clang loop unroll(full)
            for (int u = 0; u < NV; u++) {
                acc0[u] = acc0[u] + wv0 * dw_tap(r0, ox + u * VK_V, kx * d, half, S, st);
                acc1[u] = acc1[u] + wv1 * dw_tap(r1, ox + u * VK_V, kx * d, half, S, st);
            }
        }
    }
    if (ky < kh) {
        const float *r0 = rows[ky], *w0 = w + ky * K;
        for (long kx = 0; kx < K; kx++) {
            const vf wv0 = vsplat(w0[kx]);
#pragma clang loop unroll(full)
            for (int u = 0; u < NV; u++) acc0[u] = acc0[u] + wv0 * dw_tap(r0, ox + u * VK_V, kx * d, half, S, st);
        }
    }
#pragma clang loop unroll(full)
    for (int u = 0; u < NV; u++) {
        const vf y = vactivate(acc0[u] + acc1[u], act);
        if (u < NV - 1) vstore(out + ox + u * VK_V, y);
        else vstore_partial(out + ox + u * VK_V, y, count - u * VK_V);
    }
}

/// One output row: out[ox] = act(b + sum_{ky,kx} w[ky*kw + kx] * rows[ky][ox*s + kx*d]).
/// KW and S are 0 (runtime kw / stride s) or compile-time constants the calls specialise on.
VK_INLINE void dw_row(const float *const *rows, long kh, long kw, const float *w, float b, float *out,
                      long out_w, long s, long d, long half, int act, const int KW, const int S) {
    const long K = KW ? KW : kw;
    const long st = S ? S : s;
    long ox = 0;
    for (; ox + DW_UNROLL * VK_V <= out_w; ox += DW_UNROLL * VK_V)
        dw_block(rows, kh, K, w, b, out, ox, DW_UNROLL * VK_V, st, d, half, act, DW_UNROLL, S);
    const long rest = out_w - ox;
    if (rest <= 0) return;
    switch ((rest + VK_V - 1) / VK_V) {
    case 1: dw_block(rows, kh, K, w, b, out, ox, rest, st, d, half, act, 1, S); break;
    case 2: dw_block(rows, kh, K, w, b, out, ox, rest, st, d, half, act, 2, S); break;
    case 3: dw_block(rows, kh, K, w, b, out, ox, rest, st, d, half, act, 3, S); break;
    default: dw_block(rows, kh, K, w, b, out, ox, rest, st, d, half, act, DW_UNROLL, S); break;  // rest < DW_UNROLL * VK_V
    }
}

/// Copies input row `src` (in_w floats) into ring row `row`, whose other columns are
/// zero from the start and never written. Padded column j (input x = j - pad_w) is at
/// row[j], or for S == 2 at row[j / 2] (even j) or row[half + j / 2] (odd j): output
/// ox's tap kx * d then is element ox + (kx * d) / 2 of one half, a contiguous load.
VK_INLINE void dw_fill_row(float *row, const float *src, long in_w, long pad_w, long half, const int S) {
    long x = 0;
    if (S != 2) {
        float *dst = row + pad_w;
        for (; x + VK_V <= in_w; x += VK_V) vstore(dst + x, vload(src + x));
        for (; x < in_w; x++) dst[x] = src[x];
        return;
    }
    // src[2t] goes to column pad_w + 2t, src[2t + 1] to pad_w + 2t + 1.
    float *even_dst = row + ((pad_w & 1) ? half : 0) + (pad_w >> 1);
    float *odd_dst = row + ((pad_w & 1) ? 0 : half) + ((pad_w + 1) >> 1);
    long t = 0;
    for (; 2 * t + 2 * VK_V <= in_w; t += VK_V) {
        const vf a = vload(src + 2 * t), b = vload(src + 2 * t + VK_V);
        vstore(even_dst + t, __builtin_shufflevector(a, b, VK_EVENS));
        vstore(odd_dst + t, __builtin_shufflevector(a, b, VK_ODDS));
    }
    for (x = 2 * t; x < in_w; x++) {
        if (x & 1) odd_dst[x >> 1] = src[x];
        else even_dst[x >> 1] = src[x];
    }
}

/// Output planes [p0, p1) with the loops specialised on KH, KW and S (0: runtime values).
VK_INLINE void dw_planes(const float *input, const float *weight, const float *bias, float *output,
                         const vk_conv_geometry *g, const vk_depthwise_window *win, int act, long p0, long p1,
                         float *rows_mem, long wp, long ring, long *slot_row, const float *zero_row,
                         const int KH, const int KW, const int S) {
    const long kh = KH ? KH : g->kernel_h, kw = KW ? KW : g->kernel_w;
    const long multiplier = g->out_channels / g->groups;
    const float *rows[kh];
    const long half = wp / 2;
    for (long p = p0; p < p1; p++) {
        const long n = p / g->out_channels, oc = p - n * g->out_channels;
        // Row iy of the image is row iy - in_row0 of the plane held.
        const float *src = input + (n * g->in_channels + oc / multiplier) * win->in_plane_stride
                           - win->in_row0 * g->in_w;
        const float *w = weight + oc * kh * kw;
        const float b = bias ? bias[oc] : 0.0f;
        float *dst = output + p * win->out_plane_stride - win->oy_begin * g->out_w;
        for (long i = 0; i < ring; i++) slot_row[i] = -1;
        for (long oy = win->oy_begin; oy < win->oy_end; oy++) {
            for (long ky = 0; ky < kh; ky++) {
                const long iy = oy * g->stride_h - g->pad_h + ky * g->dilation_h;
                if (iy < 0 || iy >= g->in_h) {
                    rows[ky] = zero_row;
                    continue;
                }
                const long slot = iy % ring;
                float *row = rows_mem + slot * wp;
                if (slot_row[slot] != iy) {
                    dw_fill_row(row, src + iy * g->in_w, g->in_w, g->pad_w, half, S);
                    slot_row[slot] = iy;
                }
                rows[ky] = row;
            }
            dw_row(rows, kh, kw, w, b, dst + oy * g->out_w, g->out_w, g->stride_w, g->dilation_w, half, act, KW, S);
        }
    }
}

int VK_NAME(vk_depthwise_conv2d)(const float *input, const float *weight, const float *bias, float *output,
                                 const vk_conv_geometry *g, const vk_depthwise_window *window, int act,
                                 long plane_begin, long plane_end) {
    const vk_depthwise_window whole = {g->in_h * g->in_w, 0, g->out_h * g->out_w, 0, g->out_h};
    const vk_depthwise_window *win = window ? window : &whole;
    const long kh = g->kernel_h, kw = g->kernel_w, s = g->stride_w;
    // Ring slots: the rows one output row reads span (kh-1)*dilation_h + 1 input rows.
    const long ring = (kh - 1) * g->dilation_h + 1;
    // Every lane of the last (partial) vector reads in bounds: see the header comment.
    long wp = (g->out_w + VK_V) * g->stride_w + (kw - 1) * g->dilation_w + VK_V;
    if (wp < g->pad_w + g->in_w) wp = g->pad_w + g->in_w;
    wp = (wp + 15) & ~15L;
    // ring rows, then one row that stays zero (rows above and below the input).
    float *rows_mem = calloc((size_t)(ring + 1) * (size_t)wp, sizeof(float));
    long *slot_row = malloc((size_t)ring * sizeof(long));
    if (!rows_mem || !slot_row) {
        free(rows_mem); free(slot_row);
        return -1;
    }
    const float *zero_row = rows_mem + ring * wp;
    const long p0 = plane_begin, p1 = plane_end;
#define DW_PLANES(KH, KW, S) \
    dw_planes(input, weight, bias, output, g, win, act, p0, p1, rows_mem, wp, ring, slot_row, zero_row, KH, KW, S)
    if (kh == 3 && kw == 3 && s == 1) DW_PLANES(3, 3, 1);
    else if (kh == 3 && kw == 3 && s == 2) DW_PLANES(3, 3, 2);
    else if (kh == 5 && kw == 5 && s == 1) DW_PLANES(5, 5, 1);
    else if (kh == 5 && kw == 5 && s == 2) DW_PLANES(5, 5, 2);
    else if (s == 1) DW_PLANES(0, 0, 1);
    else if (s == 2) DW_PLANES(0, 0, 2);
    else DW_PLANES(0, 0, 0);
#undef DW_PLANES
    free(rows_mem); free(slot_row);
    return 0;
}
