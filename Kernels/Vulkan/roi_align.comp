#version 450
// torchvision's roi_align (the CPU kernel's arithmetic, Kernels/CPU/RoIAlign.swift) over up
// to 5 feature maps [N, C, H_l, W_l], one thread per output element of [K, C, PH, PW].
// boxes [K, 4] (x1, y1, x2, y2 in image pixels); roiInfo [K, 2] (image, level; a level
// outside 0..<levelCount pools to zeros). Unused feature bindings hold any buffer.
#include "common.glsl"
layout(local_size_x = 256) in;

layout(std430, push_constant) uniform Parameters {
    int rois, channels, pooledH, pooledW, samplingRatio, aligned, levelCount;
    int heights[5];
    int widths[5];
    float scales[5];
} p;
layout(std430, set = 0, binding = 0) readonly buffer F0 { float f0[]; };
layout(std430, set = 0, binding = 1) readonly buffer F1 { float f1[]; };
layout(std430, set = 0, binding = 2) readonly buffer F2 { float f2[]; };
layout(std430, set = 0, binding = 3) readonly buffer F3 { float f3[]; };
layout(std430, set = 0, binding = 4) readonly buffer F4 { float f4[]; };
layout(std430, set = 0, binding = 5) readonly buffer Boxes { float boxes[]; };
layout(std430, set = 0, binding = 6) readonly buffer RoIInfo { int roiInfo[]; };
layout(std430, set = 0, binding = 7) writeonly buffer Output { float outputValues[]; };

float feature(int level, int index) {
    switch (level) {
    case 0: return f0[index];
    case 1: return f1[index];
    case 2: return f2[index];
    case 3: return f3[index];
    default: return f4[index];
    }
}

/// ceil(size / pooled) capped at 256; 0 for NaN or non-positive sizes.
int adaptiveGrid(float size, int pooled) {
    float g = ceil(size / float(pooled));
    if (g >= 256.0) return 256;
    return g >= 1.0 ? int(g) : 0;
}

void main() {
    uint index = flatIndex();
    int bins = p.pooledH * p.pooledW;
    if (index >= uint(p.rois * p.channels * bins)) return;
    int i = int(index);
    int pw = i % p.pooledW, ph = (i / p.pooledW) % p.pooledH;
    int c = (i / bins) % p.channels, r = i / (bins * p.channels);
    int image = roiInfo[2 * r], level = roiInfo[2 * r + 1];
    if (level < 0 || level >= p.levelCount) {
        outputValues[index] = 0.0;
        return;
    }
    int height = p.heights[level], width = p.widths[level];
    precise float scale = p.scales[level];
    precise float offset = p.aligned != 0 ? 0.5 : 0.0;
    precise float startW = boxes[4 * r] * scale - offset;
    precise float startH = boxes[4 * r + 1] * scale - offset;
    precise float roiWidth = (boxes[4 * r + 2] * scale - offset) - startW;
    precise float roiHeight = (boxes[4 * r + 3] * scale - offset) - startH;
    if (p.aligned == 0) {
        roiWidth = roiWidth < 1.0 ? 1.0 : roiWidth;
        roiHeight = roiHeight < 1.0 ? 1.0 : roiHeight;
    }
    precise float binH = roiHeight / float(p.pooledH);
    precise float binW = roiWidth / float(p.pooledW);
    int gridH = p.samplingRatio > 0 ? p.samplingRatio : adaptiveGrid(roiHeight, p.pooledH);
    int gridW = p.samplingRatio > 0 ? p.samplingRatio : adaptiveGrid(roiWidth, p.pooledW);
    float gh = float(gridH), gw = float(gridW);
    float fh = float(height), fw = float(width);
    int base = (image * p.channels + c) * height * width;
    float value = 0.0;
    for (int iy = 0; iy < gridH; iy++) {
        precise float yy = startH + float(ph) * binH + (float(iy) + 0.5) * binH / gh;
        for (int ix = 0; ix < gridW; ix++) {
            precise float xx = startW + float(pw) * binW + (float(ix) + 0.5) * binW / gw;
            if (!(yy >= -1.0 && yy <= fh && xx >= -1.0 && xx <= fw)) continue;
            precise float y = yy <= 0.0 ? 0.0 : yy;
            precise float x = xx <= 0.0 ? 0.0 : xx;
            int yLow = int(y), xLow = int(x), yHigh, xHigh;
            if (yLow >= height - 1) { yLow = height - 1; yHigh = yLow; y = float(yLow); } else { yHigh = yLow + 1; }
            if (xLow >= width - 1) { xLow = width - 1; xHigh = xLow; x = float(xLow); } else { xHigh = xLow + 1; }
            precise float ly = y - float(yLow), lx = x - float(xLow);
            precise float hy = 1.0 - ly, hx = 1.0 - lx;
            precise float taps = hy * hx * feature(level, base + yLow * width + xLow)
                + hy * lx * feature(level, base + yLow * width + xHigh)
                + ly * hx * feature(level, base + yHigh * width + xLow)
                + ly * lx * feature(level, base + yHigh * width + xHigh);
            value += taps;
        }
    }
    outputValues[index] = value / float(max(gridH * gridW, 1));
}
