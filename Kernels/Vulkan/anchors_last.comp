#version 450
// One image's per-anchor predictions in anchor order: input [N, A * v, H, W] (anchor a's
// value j at channel a * v + j) -> output [H * W * A, v], row (y * W + x) * A + a.
// With `gather` set, only the rows listed in `rows` ([count] ints) -> [count, v].
#include "common.glsl"
layout(local_size_x = 256) in;

layout(push_constant) uniform Parameters { int image, channels, planeSize, valuesPerAnchor, count, gather; } p;
layout(std430, set = 0, binding = 0) readonly buffer Input { float inputValues[]; };
layout(std430, set = 0, binding = 1) readonly buffer Rows { int rows[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float outputValues[]; };

void main() {
    uint index = flatIndex();
    if (index >= uint(p.count * p.valuesPerAnchor)) return;
    int outRow = int(index) / p.valuesPerAnchor, j = int(index) % p.valuesPerAnchor;
    int row = p.gather != 0 ? rows[outRow] : outRow;
    int anchors = p.channels / p.valuesPerAnchor;
    int pixel = row / anchors, a = row % anchors;
    outputValues[index] = inputValues[(p.image * p.channels + a * p.valuesPerAnchor + j) * p.planeSize + pixel];
}
