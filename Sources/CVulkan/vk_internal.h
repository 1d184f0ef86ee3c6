// Internal to CVulkan: the function tables filled from the dlopen'ed loader, and the
// context, buffer and pipeline structures behind the opaque handles of vk_runtime.h.

#ifndef VK_INTERNAL_H
#define VK_INTERNAL_H

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include "vk_runtime.h"

/// Instance-level entry points (resolved with vkGetInstanceProcAddr).
#define VKR_INSTANCE_FUNCTIONS(X) \
    X(vkDestroyInstance) \
    X(vkEnumeratePhysicalDevices) \
    X(vkGetPhysicalDeviceProperties) \
    X(vkGetPhysicalDeviceQueueFamilyProperties) \
    X(vkGetPhysicalDeviceMemoryProperties) \
    X(vkCreateDevice) \
    X(vkGetDeviceProcAddr)

/// Device-level entry points (resolved with vkGetDeviceProcAddr).
#define VKR_DEVICE_FUNCTIONS(X) \
    X(vkDestroyDevice) \
    X(vkGetDeviceQueue) \
    X(vkDeviceWaitIdle) \
    X(vkCreateBuffer) \
    X(vkDestroyBuffer) \
    X(vkGetBufferMemoryRequirements) \
    X(vkAllocateMemory) \
    X(vkFreeMemory) \
    X(vkBindBufferMemory) \
    X(vkMapMemory) \
    X(vkUnmapMemory) \
    X(vkCreateShaderModule) \
    X(vkDestroyShaderModule) \
    X(vkCreateDescriptorSetLayout) \
    X(vkDestroyDescriptorSetLayout) \
    X(vkCreatePipelineLayout) \
    X(vkDestroyPipelineLayout) \
    X(vkCreateComputePipelines) \
    X(vkDestroyPipeline) \
    X(vkCreateDescriptorPool) \
    X(vkDestroyDescriptorPool) \
    X(vkResetDescriptorPool) \
    X(vkAllocateDescriptorSets) \
    X(vkUpdateDescriptorSets) \
    X(vkCreateCommandPool) \
    X(vkDestroyCommandPool) \
    X(vkAllocateCommandBuffers) \
    X(vkBeginCommandBuffer) \
    X(vkEndCommandBuffer) \
    X(vkResetCommandBuffer) \
    X(vkCmdBindPipeline) \
    X(vkCmdBindDescriptorSets) \
    X(vkCmdPushConstants) \
    X(vkCmdDispatch) \
    X(vkCmdCopyBuffer) \
    X(vkCmdFillBuffer) \
    X(vkCmdPipelineBarrier) \
    X(vkCreateFence) \
    X(vkDestroyFence) \
    X(vkResetFences) \
    X(vkWaitForFences) \
    X(vkQueueSubmit)

#define VKR_DECLARE(name) PFN_##name name;

/// The loader library and the instance with its entry points.
typedef struct {
    void *library;
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
    VkInstance instance;
    VKR_INSTANCE_FUNCTIONS(VKR_DECLARE)
} vkr_instance;

/// Descriptor sets one submit may use before the recorded work is submitted early.
#define VKR_SETS_PER_SUBMIT 1024
/// Storage-buffer bindings one pipeline may have.
#define VKR_MAX_BINDINGS 12

struct vkr_context {
    vkr_instance vk;
    VkPhysicalDevice physical;
    VkPhysicalDeviceMemoryProperties memory;
    VkPhysicalDeviceLimits limits;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkCommandPool command_pool;
    VkCommandBuffer commands;
    VkFence fence;
    VkDescriptorPool descriptor_pool;
    /// Commands recorded into `commands` since the last submit (0: not begun).
    uint32_t recorded;
    uint32_t sets_used;
    VKR_DEVICE_FUNCTIONS(VKR_DECLARE)
};

struct vkr_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    uint64_t size;
    void *host;
};

struct vkr_pipeline {
    VkShaderModule module;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    uint32_t binding_count;
    uint32_t push_bytes;
};

/// Opens `loader_path` and creates an instance (API 1.0); 0 or non-zero with `error` set.
int vkr_instance_open(vkr_instance *vk, const char *loader_path, char *error, size_t error_len);
void vkr_instance_close(vkr_instance *vk);
/// The physical devices of `vk` (at most `capacity`), their number in `*count`.
int vkr_physical_devices(vkr_instance *vk, VkPhysicalDevice *out, uint32_t capacity, uint32_t *count,
                         char *error, size_t error_len);
void vkr_describe_device(vkr_instance *vk, VkPhysicalDevice device, vkr_device_info *info);

/// printf into `error` (one line).
void vkr_set_error(char *error, size_t error_len, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/// A VkResult's name ("VK_ERROR_OUT_OF_DEVICE_MEMORY").
const char *vkr_result_name(VkResult result);

#endif
