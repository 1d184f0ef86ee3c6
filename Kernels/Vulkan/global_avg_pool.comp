#version 450
// Mean of each [H * W] plane: one 256-thread workgroup per plane (x + y * 65535),
// strided partial sums then a shared-memory tree reduction.
layout(local_size_x = 256) in;

layout(push_constant) uniform Parameters { int planes, planeSize; } p;
layout(std430, set = 0, binding = 0) readonly buffer Input { float inputValues[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Output { float outputValues[]; };

shared float partial[256];

void main() {
    int plane = int(gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x);
    if (plane >= p.planes) return;  // uniform across the workgroup
    int t = int(gl_LocalInvocationID.x);
    float sum = 0.0;
    for (int i = t; i < p.planeSize; i += 256) sum += inputValues[plane * p.planeSize + i];
    partial[t] = sum;
    barrier();
    for (int width = 128; width > 0; width /= 2) {
        if (t < width) partial[t] += partial[t + width];
        barrier();
    }
    if (t == 0) outputValues[plane] = partial[0] / float(p.planeSize);
}
