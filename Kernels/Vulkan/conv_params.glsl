// Push constants of the three convolution kernels. Layouts: input [N, Cin, H, W],
// weight [Cout, Cin/groups, kH, kW] (flattened: row co is [Cin/groups * kH * kW]),
// bias [Cout], output [N, Cout, outH, outW]; all contiguous Float32.
layout(push_constant) uniform ConvParameters {
    int batch, inChannels, inH, inW;
    int outChannels, outH, outW;
    int kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW;
    int groups, activation, hasBias;
} p;

layout(std430, set = 0, binding = 0) readonly buffer Input { float inputValues[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { float weightValues[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float biasValues[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Output { float outputValues[]; };
