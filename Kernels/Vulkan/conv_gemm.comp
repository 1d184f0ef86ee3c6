#version 450
#extension GL_GOOGLE_include_directive : require
// Convolution as an implicit GEMM per (image, group): C[co, pixel] = W[co, k] X[k, pixel],
// k = (ci, ky, kx) over the group's Cin/groups * kH * kW taps; X (im2col) is never
// materialised: each B tile is gathered from the input straight into shared memory.
// 1x1 stride-1 convs read X as the input's [Cin, H*W] rows directly.
// Launch: (ceil(outH * outW / 64), ceil((Cout/groups) / 64), N * groups).
#include "common.glsl"
#include "conv_params.glsl"

int image, group, cinPerGroup, coutPerGroup, taps;

float loadA(int m, int k) {
    return weightValues[(group * coutPerGroup + m) * cinPerGroup * taps + k];
}

float loadB(int k, int n) {
    int ci = k / taps, tap = k % taps;
    int ky = tap / p.kernelW, kx = tap % p.kernelW;
    int oy = n / p.outW, ox = n % p.outW;
    int iy = oy * p.strideH - p.padH + ky * p.dilationH;
    int ix = ox * p.strideW - p.padW + kx * p.dilationW;
    if (iy < 0 || iy >= p.inH || ix < 0 || ix >= p.inW) return 0.0;
    return inputValues[((image * p.inChannels + group * cinPerGroup + ci) * p.inH + iy) * p.inW + ix];
}

void storeC(int m, int n, float value) {
    int co = group * coutPerGroup + m;
    if (p.hasBias != 0) value += biasValues[co];
    outputValues[(image * p.outChannels + co) * p.outH * p.outW + n] = activate(value, p.activation);
}

#define B_CONTIGUOUS_IN_K 0
#include "gemm_tiles.glsl"

void main() {
    image = int(gl_WorkGroupID.z) / p.groups;
    group = int(gl_WorkGroupID.z) % p.groups;
    cinPerGroup = p.inChannels / p.groups;
    coutPerGroup = p.outChannels / p.groups;
    taps = p.kernelH * p.kernelW;
    gemmTile(coutPerGroup, p.outH * p.outW, cinPerGroup * taps,
             int(gl_WorkGroupID.y) * 64, int(gl_WorkGroupID.x) * 64);
}
