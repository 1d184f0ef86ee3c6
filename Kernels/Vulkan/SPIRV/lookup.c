// Finds an embedded kernel by name (the generated table is in vulkan_kernels_spirv.c).

#include <string.h>

#include "vulkan_kernels_spirv.h"

const vulkan_kernel_spirv *vulkan_kernel_named(const char *name) {
    for (int i = 0; i < vulkan_kernel_count; i++) {
        if (strcmp(vulkan_kernels[i].name, name) == 0) return &vulkan_kernels[i];
    }
    return NULL;
}
