#version 450
// Depthwise convolution (one input channel per group, Cout = groups * multiplier):
// one thread per output element, the kH x kW window's bounds clipped once per row.
#include "common.glsl"
#include "conv_params.glsl"
layout(local_size_x = 256) in;

void main() {
    uint index = flatIndex();
    int outPlane = p.outH * p.outW;
    if (index >= uint(p.batch * p.outChannels * outPlane)) return;
    int i = int(index);
    int ox = i % p.outW, oy = (i / p.outW) % p.outH;
    int co = (i / outPlane) % p.outChannels, n = i / (outPlane * p.outChannels);
    int ci = co / (p.outChannels / p.groups);
    int inBase = (n * p.inChannels + ci) * p.inH * p.inW;
    int wBase = co * p.kernelH * p.kernelW;
    // First and last in-bounds taps along x (the same for every row).
    int x0 = ox * p.strideW - p.padW;
    int kxLo = x0 >= 0 ? 0 : (-x0 + p.dilationW - 1) / p.dilationW;
    int kxHi = min(p.kernelW, (p.inW - x0 + p.dilationW - 1) / p.dilationW);
    float sum = 0.0;
    for (int ky = 0; ky < p.kernelH; ky++) {
        int iy = oy * p.strideH - p.padH + ky * p.dilationH;
        if (iy < 0 || iy >= p.inH) continue;
        int row = inBase + iy * p.inW + x0;
        for (int kx = kxLo; kx < kxHi; kx++) {
            sum += inputValues[row + kx * p.dilationW] * weightValues[wBase + ky * p.kernelW + kx];
        }
    }
    if (p.hasBias != 0) sum += biasValues[co];
    outputValues[index] = activate(sum, p.activation);
}
