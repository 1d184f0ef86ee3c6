#version 450
// PyTorch max_pool2d (floor mode; padding counts as -inf; NaN wins), one thread per
// output element of [planes, outH, outW] from [planes, inH, inW].
#include "common.glsl"
layout(local_size_x = 256) in;

layout(push_constant) uniform Parameters { int planes, inH, inW, outH, outW, kernel, stride, padding; } p;
layout(std430, set = 0, binding = 0) readonly buffer Input { float inputValues[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Output { float outputValues[]; };

void main() {
    uint index = flatIndex();
    if (index >= uint(p.planes * p.outH * p.outW)) return;
    int i = int(index);
    int ox = i % p.outW, oy = (i / p.outW) % p.outH, plane = i / (p.outW * p.outH);
    int y0 = oy * p.stride - p.padding, x0 = ox * p.stride - p.padding;
    float m = uintBitsToFloat(0xff800000u);  // -inf
    for (int y = max(y0, 0); y < min(y0 + p.kernel, p.inH); y++) {
        for (int x = max(x0, 0); x < min(x0 + p.kernel, p.inW); x++) {
            float v = inputValues[(plane * p.inH + y) * p.inW + x];
            if (v > m || isnan(v)) m = v;
        }
    }
    outputValues[index] = m;
}
