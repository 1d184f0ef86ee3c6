#version 450
// Direct convolution, one thread per output element [n, co, oy, ox]: any groups,
// stride, padding and dilation. For convs whose GEMM would be too thin to tile
// (few output channels per group).
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
    int cinPerGroup = p.inChannels / p.groups, coutPerGroup = p.outChannels / p.groups;
    int g = co / coutPerGroup;
    float sum = 0.0;
    for (int ci = 0; ci < cinPerGroup; ci++) {
        int inBase = (n * p.inChannels + g * cinPerGroup + ci) * p.inH * p.inW;
        int wBase = (co * cinPerGroup + ci) * p.kernelH * p.kernelW;
        for (int ky = 0; ky < p.kernelH; ky++) {
            int iy = oy * p.strideH - p.padH + ky * p.dilationH;
            if (iy < 0 || iy >= p.inH) continue;
            for (int kx = 0; kx < p.kernelW; kx++) {
                int ix = ox * p.strideW - p.padW + kx * p.dilationW;
                if (ix < 0 || ix >= p.inW) continue;
                sum += inputValues[inBase + iy * p.inW + ix] * weightValues[wBase + ky * p.kernelW + kx];
            }
        }
    }
    if (p.hasBias != 0) sum += biasValues[co];
    outputValues[index] = activate(sum, p.activation);
}
