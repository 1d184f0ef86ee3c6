#version 450
#extension GL_GOOGLE_include_directive : require
// Linear layer as a tiled GEMM: output[row, o] = sum_k input[row, k] weight[o, k] + bias[o],
// input [rows, in], weight [out, in] (PyTorch's layout), output [rows, out].
// Launch: (ceil(out / 64), ceil(rows / 64), 1).
#include "common.glsl"

layout(push_constant) uniform LinearParameters { int rows, inFeatures, outFeatures, activation, hasBias; } p;
layout(std430, set = 0, binding = 0) readonly buffer Input { float inputValues[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { float weightValues[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float biasValues[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Output { float outputValues[]; };

float loadA(int m, int k) { return inputValues[m * p.inFeatures + k]; }
float loadB(int k, int n) { return weightValues[n * p.inFeatures + k]; }
void storeC(int m, int n, float value) {
    if (p.hasBias != 0) value += biasValues[n];
    outputValues[m * p.outFeatures + n] = activate(value, p.activation);
}

#define B_CONTIGUOUS_IN_K 1
#include "gemm_tiles.glsl"

void main() {
    gemmTile(p.rows, p.outFeatures, p.inFeatures, int(gl_WorkGroupID.y) * 64, int(gl_WorkGroupID.x) * 64);
}
