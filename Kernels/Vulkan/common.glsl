// Shared by every kernel: the fused activations (codes of VisionKernels' KernelActivation:
// 0 identity, 1 relu, 2 relu6, 3 hardswish, 4 hardsigmoid, 5 sigmoid, with the CPU
// kernels' operation order) and the flat index of a 1-D launch spread over a 2-D grid
// (x at most 65535 workgroups, the minimum every device allows).

float relu6(float x) {
    float r = x < 0.0 ? 0.0 : x;
    return r > 6.0 ? 6.0 : r;
}

float activate(float x, int code) {
    switch (code) {
    case 1: return x < 0.0 ? 0.0 : x;
    case 2: return relu6(x);
    case 3: return x * relu6(x + 3.0) / 6.0;
    case 4: return relu6(x + 3.0) / 6.0;
    case 5: return 1.0 / (1.0 + exp(-x));
    default: return x;
    }
}

/// For local_size_x = 256 launches of ceil(count / 256) groups as (x, y) = (min(groups, 65535), ...).
uint flatIndex() {
    return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
}
