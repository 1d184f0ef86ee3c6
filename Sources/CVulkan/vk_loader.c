// The Vulkan loader opened with dlopen, the instance, and the device list.

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vk_internal.h"

void vkr_set_error(char *error, size_t error_len, const char *format, ...) {
    if (!error || error_len == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(error, error_len, format, args);
    va_end(args);
    // One line: a loader's dlerror text may hold newlines.
    for (char *c = error; *c; c++) if (*c == '\n' || *c == '\r') *c = ' ';
}

const char *vkr_result_name(VkResult result) {
    switch (result) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER (no Vulkan driver found; e.g. mesa-vulkan-drivers has lavapipe)";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult error";
    }
}

int vkr_instance_open(vkr_instance *vk, const char *loader_path, char *error, size_t error_len) {
    memset(vk, 0, sizeof *vk);
    vk->library = dlopen(loader_path, RTLD_NOW | RTLD_LOCAL);
    if (!vk->library) {
        const char *why = dlerror();
        vkr_set_error(error, error_len, "cannot load the Vulkan loader %s (%s); it comes with the libvulkan1 package", loader_path, why ? why : "dlopen failed");
        return 1;
    }
    vk->vkGetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)dlsym(vk->library, "vkGetInstanceProcAddr");
    if (!vk->vkGetInstanceProcAddr) {
        vkr_set_error(error, error_len, "%s has no vkGetInstanceProcAddr: not a Vulkan loader", loader_path);
        dlclose(vk->library);
        vk->library = NULL;
        return 1;
    }
    PFN_vkCreateInstance create = (PFN_vkCreateInstance)vk->vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkCreateInstance");
    if (!create) {
        vkr_set_error(error, error_len, "%s has no vkCreateInstance", loader_path);
        vkr_instance_close(vk);
        return 1;
    }
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "vision",
        .pEngineName = "vision",
        .apiVersion = VK_API_VERSION_1_0,
    };
    VkInstanceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkResult r = create(&info, NULL, &vk->instance);
    if (r != VK_SUCCESS) {
        vkr_set_error(error, error_len, "vkCreateInstance failed: %s", vkr_result_name(r));
        vk->instance = VK_NULL_HANDLE;
        vkr_instance_close(vk);
        return 1;
    }
#define VKR_LOAD_INSTANCE(name) \
    vk->name = (PFN_##name)vk->vkGetInstanceProcAddr(vk->instance, #name); \
    if (!vk->name) { \
        vkr_set_error(error, error_len, "the Vulkan loader %s lacks %s", loader_path, #name); \
        vkr_instance_close(vk); \
        return 1; \
    }
    VKR_INSTANCE_FUNCTIONS(VKR_LOAD_INSTANCE)
#undef VKR_LOAD_INSTANCE
    return 0;
}

void vkr_instance_close(vkr_instance *vk) {
    if (vk->instance && vk->vkDestroyInstance) vk->vkDestroyInstance(vk->instance, NULL);
    if (vk->library) dlclose(vk->library);
    memset(vk, 0, sizeof *vk);
}

int vkr_physical_devices(vkr_instance *vk, VkPhysicalDevice *out, uint32_t capacity, uint32_t *count,
                         char *error, size_t error_len) {
    uint32_t n = capacity;
    VkResult r = vk->vkEnumeratePhysicalDevices(vk->instance, &n, out);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        vkr_set_error(error, error_len, "vkEnumeratePhysicalDevices failed: %s", vkr_result_name(r));
        return 1;
    }
    *count = n;
    return 0;
}

void vkr_describe_device(vkr_instance *vk, VkPhysicalDevice device, vkr_device_info *info) {
    memset(info, 0, sizeof *info);
    VkPhysicalDeviceProperties p;
    vk->vkGetPhysicalDeviceProperties(device, &p);
    snprintf(info->name, sizeof info->name, "%s", p.deviceName);
    info->device_type = (uint32_t)p.deviceType;
    info->api_version = p.apiVersion;
    info->vendor_id = p.vendorID;
    info->device_id = p.deviceID;
    for (int i = 0; i < 3; i++) {
        info->max_workgroup_size[i] = p.limits.maxComputeWorkGroupSize[i];
        info->max_workgroup_count[i] = p.limits.maxComputeWorkGroupCount[i];
    }
    info->max_workgroup_invocations = p.limits.maxComputeWorkGroupInvocations;
    info->max_shared_memory_bytes = p.limits.maxComputeSharedMemorySize;
    info->max_push_constant_bytes = p.limits.maxPushConstantsSize;
    info->max_storage_buffer_range = p.limits.maxStorageBufferRange;
    VkPhysicalDeviceMemoryProperties m;
    vk->vkGetPhysicalDeviceMemoryProperties(device, &m);
    for (uint32_t h = 0; h < m.memoryHeapCount; h++) {
        if (m.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) info->device_local_bytes += m.memoryHeaps[h].size;
    }
    uint32_t families = 0;
    vk->vkGetPhysicalDeviceQueueFamilyProperties(device, &families, NULL);
    VkQueueFamilyProperties props[32];
    if (families > 32) families = 32;
    vk->vkGetPhysicalDeviceQueueFamilyProperties(device, &families, props);
    for (uint32_t f = 0; f < families; f++) {
        if (props[f].queueFlags & VK_QUEUE_COMPUTE_BIT) info->has_compute_queue = 1;
    }
}

int vkr_list_devices(const char *loader_path, vkr_device_info *out, int capacity, int *count,
                     char *error, size_t error_len) {
    vkr_instance vk;
    if (vkr_instance_open(&vk, loader_path, error, error_len)) return 1;
    VkPhysicalDevice devices[64];
    uint32_t n = 0;
    if (vkr_physical_devices(&vk, devices, 64, &n, error, error_len)) {
        vkr_instance_close(&vk);
        return 1;
    }
    for (uint32_t i = 0; i < n && (int)i < capacity; i++) vkr_describe_device(&vk, devices[i], &out[i]);
    *count = (int)n;
    vkr_instance_close(&vk);
    return 0;
}
