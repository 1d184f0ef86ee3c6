#version 450
// Element-wise operations over `count` floats, one thread per element:
//   op 0: out = act(a)            op 1: out = act(a + b)
//   op 2: out = a * b             op 3: out = a * b[i / planeSize] (scale [N, C, 1, 1]
//                                        broadcast over each H x W plane: squeeze-excitation)
#include "common.glsl"
layout(local_size_x = 256) in;

layout(push_constant) uniform Parameters { int count, op, activation, planeSize; } p;
layout(std430, set = 0, binding = 0) readonly buffer A { float aValues[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { float bValues[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float outputValues[]; };

void main() {
    uint i = flatIndex();
    if (i >= uint(p.count)) return;
    float a = aValues[i];
    float value;
    switch (p.op) {
    case 1: value = activate(a + bValues[i], p.activation); break;
    case 2: value = a * bValues[i]; break;
    case 3: value = a * bValues[i / uint(p.planeSize)]; break;
    default: value = activate(a, p.activation); break;
    }
    outputValues[i] = value;
}
