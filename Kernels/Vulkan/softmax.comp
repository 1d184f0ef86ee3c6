#version 450
// Softmax over each row of [rows, cols] (the box head's class logits: rows = RoIs),
// one thread per row: max, sum of exp(x - max), then scale, as the CPU kernel.
#include "common.glsl"
layout(local_size_x = 256) in;

layout(push_constant) uniform Parameters { int rows, cols; } p;
layout(std430, set = 0, binding = 0) readonly buffer Input { float inputValues[]; };
layout(std430, set = 0, binding = 1) buffer Output { float outputValues[]; };

void main() {
    uint row = flatIndex();
    if (row >= uint(p.rows)) return;
    int base = int(row) * p.cols;
    float m = uintBitsToFloat(0xff800000u);
    for (int i = 0; i < p.cols; i++) m = max(m, inputValues[base + i]);
    float sum = 0.0;
    for (int i = 0; i < p.cols; i++) {
        float e = exp(inputValues[base + i] - m);
        outputValues[base + i] = e;
        sum += e;
    }
    float inverse = 1.0 / sum;
    for (int i = 0; i < p.cols; i++) outputValues[base + i] *= inverse;
}
