#version 450
// Nearest-neighbour resize [planes, inH, inW] -> [planes, outH, outW] with the CPU kernel's
// (PyTorch's legacy "nearest") source index: the same size copies, twice the size
// halves, otherwise min(floor(dst * (Float32(in) / Float32(out))), in - 1).
#include "common.glsl"
layout(local_size_x = 256) in;

layout(push_constant) uniform Parameters { int planes, inH, inW, outH, outW; } p;
layout(std430, set = 0, binding = 0) readonly buffer Input { float inputValues[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Output { float outputValues[]; };

int sourceIndex(int dst, int inSize, int outSize) {
    if (outSize == inSize) return dst;
    if (outSize == 2 * inSize) return dst >> 1;
    precise float scale = float(inSize) / float(outSize);
    precise float position = float(dst) * scale;
    return min(int(floor(position)), inSize - 1);
}

void main() {
    uint index = flatIndex();
    if (index >= uint(p.planes * p.outH * p.outW)) return;
    int i = int(index);
    int ox = i % p.outW, oy = (i / p.outW) % p.outH, plane = i / (p.outW * p.outH);
    int sy = sourceIndex(oy, p.inH, p.outH), sx = sourceIndex(ox, p.inW, p.outW);
    outputValues[index] = inputValues[(plane * p.inH + sy) * p.inW + sx];
}
