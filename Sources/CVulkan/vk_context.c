// The logical device with one compute queue, its command buffer, fence and
// descriptor pool; and storage buffers with their memory.

#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

vkr_context *vkr_context_create(const char *loader_path, int device_index, vkr_device_info *info,
                                char *error, size_t error_len) {
    vkr_context *c = calloc(1, sizeof *c);
    if (!c) {
        vkr_set_error(error, error_len, "out of host memory");
        return NULL;
    }
    if (vkr_instance_open(&c->vk, loader_path, error, error_len)) {
        free(c);
        return NULL;
    }
    VkPhysicalDevice devices[64];
    uint32_t n = 0;
    if (vkr_physical_devices(&c->vk, devices, 64, &n, error, error_len)) goto fail;
    if (n == 0) {
        vkr_set_error(error, error_len, "no Vulkan device found (install a driver, e.g. mesa-vulkan-drivers)");
        goto fail;
    }
    if (device_index < 0 || (uint32_t)device_index >= n) {
        vkr_set_error(error, error_len, "no Vulkan device %d: %u device%s found (0..%u)", device_index, n,
                      n == 1 ? "" : "s", n - 1);
        goto fail;
    }
    c->physical = devices[device_index];
    vkr_device_info description;
    vkr_describe_device(&c->vk, c->physical, &description);
    if (info) *info = description;
    VkPhysicalDeviceProperties properties;
    c->vk.vkGetPhysicalDeviceProperties(c->physical, &properties);
    c->limits = properties.limits;
    c->vk.vkGetPhysicalDeviceMemoryProperties(c->physical, &c->memory);

    uint32_t families = 0;
    c->vk.vkGetPhysicalDeviceQueueFamilyProperties(c->physical, &families, NULL);
    VkQueueFamilyProperties props[32];
    if (families > 32) families = 32;
    c->vk.vkGetPhysicalDeviceQueueFamilyProperties(c->physical, &families, props);
    int found = 0;
    for (uint32_t f = 0; f < families && !found; f++) {
        if (props[f].queueFlags & VK_QUEUE_COMPUTE_BIT) { c->queue_family = f; found = 1; }
    }
    if (!found) {
        vkr_set_error(error, error_len, "Vulkan device %d (%s) has no compute queue", device_index, description.name);
        goto fail;
    }
    float priority = 1;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = c->queue_family, .queueCount = 1, .pQueuePriorities = &priority,
    };
    VkDeviceCreateInfo device = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1, .pQueueCreateInfos = &queue,
    };
    VkResult r = c->vk.vkCreateDevice(c->physical, &device, NULL, &c->device);
    if (r != VK_SUCCESS) {
        vkr_set_error(error, error_len, "vkCreateDevice failed on %s: %s", description.name, vkr_result_name(r));
        c->device = VK_NULL_HANDLE;
        goto fail;
    }
#define VKR_LOAD_DEVICE(name) \
    c->name = (PFN_##name)c->vk.vkGetDeviceProcAddr(c->device, #name); \
    if (!c->name) { vkr_set_error(error, error_len, "the Vulkan driver lacks %s", #name); goto fail; }
    VKR_DEVICE_FUNCTIONS(VKR_LOAD_DEVICE)
#undef VKR_LOAD_DEVICE
    c->vkGetDeviceQueue(c->device, c->queue_family, 0, &c->queue);

    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, .queueFamilyIndex = c->queue_family,
    };
    if ((r = c->vkCreateCommandPool(c->device, &pool, NULL, &c->command_pool)) != VK_SUCCESS) goto fail_result;
    VkCommandBufferAllocateInfo allocate = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = c->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1,
    };
    if ((r = c->vkAllocateCommandBuffers(c->device, &allocate, &c->commands)) != VK_SUCCESS) goto fail_result;
    VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if ((r = c->vkCreateFence(c->device, &fence, NULL, &c->fence)) != VK_SUCCESS) goto fail_result;
    VkDescriptorPoolSize sizes = {
        .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = VKR_SETS_PER_SUBMIT * VKR_MAX_BINDINGS,
    };
    VkDescriptorPoolCreateInfo descriptors = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = VKR_SETS_PER_SUBMIT,
        .poolSizeCount = 1, .pPoolSizes = &sizes,
    };
    if ((r = c->vkCreateDescriptorPool(c->device, &descriptors, NULL, &c->descriptor_pool)) != VK_SUCCESS) goto fail_result;
    return c;

fail_result:
    vkr_set_error(error, error_len, "setting up the Vulkan device failed: %s", vkr_result_name(r));
fail:
    vkr_context_destroy(c);
    return NULL;
}

void vkr_context_destroy(vkr_context *c) {
    if (!c) return;
    if (c->device) {
        c->vkDeviceWaitIdle(c->device);
        if (c->descriptor_pool) c->vkDestroyDescriptorPool(c->device, c->descriptor_pool, NULL);
        if (c->fence) c->vkDestroyFence(c->device, c->fence, NULL);
        if (c->command_pool) c->vkDestroyCommandPool(c->device, c->command_pool, NULL);
        c->vkDestroyDevice(c->device, NULL);
    }
    vkr_instance_close(&c->vk);
    free(c);
}

/// The first memory type allowed by `type_bits` with all of `wanted`, else with all of `fallback`.
static int memory_type(const vkr_context *c, uint32_t type_bits, VkMemoryPropertyFlags wanted,
                       VkMemoryPropertyFlags fallback) {
    for (int pass = 0; pass < 2; pass++) {
        VkMemoryPropertyFlags flags = pass == 0 ? wanted : fallback;
        for (uint32_t i = 0; i < c->memory.memoryTypeCount; i++) {
            if ((type_bits & (1u << i)) && (c->memory.memoryTypes[i].propertyFlags & flags) == flags) return (int)i;
        }
    }
    return -1;
}

vkr_buffer *vkr_buffer_create(vkr_context *c, uint64_t bytes, int host_visible, char *error, size_t error_len) {
    // Zero-size tensors still get a valid (tiny) buffer to bind.
    if (bytes < 16) bytes = 16;
    bytes = (bytes + 15) & ~(uint64_t)15;
    vkr_buffer *b = calloc(1, sizeof *b);
    if (!b) {
        vkr_set_error(error, error_len, "out of host memory");
        return NULL;
    }
    b->size = bytes;
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = bytes,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = c->vkCreateBuffer(c->device, &info, NULL, &b->buffer);
    if (r != VK_SUCCESS) {
        vkr_set_error(error, error_len, "vkCreateBuffer of %llu bytes failed: %s", (unsigned long long)bytes,
                      vkr_result_name(r));
        free(b);
        return NULL;
    }
    VkMemoryRequirements needs;
    c->vkGetBufferMemoryRequirements(c->device, b->buffer, &needs);
    VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type = host_visible
        ? memory_type(c, needs.memoryTypeBits, host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, host)
        : memory_type(c, needs.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    if (type < 0) {
        vkr_set_error(error, error_len, "no suitable Vulkan memory type for a %s buffer",
                      host_visible ? "host-visible" : "device");
        c->vkDestroyBuffer(c->device, b->buffer, NULL);
        free(b);
        return NULL;
    }
    VkMemoryAllocateInfo allocate = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = needs.size, .memoryTypeIndex = (uint32_t)type,
    };
    r = c->vkAllocateMemory(c->device, &allocate, NULL, &b->memory);
    if (r == VK_SUCCESS) r = c->vkBindBufferMemory(c->device, b->buffer, b->memory, 0);
    if (r == VK_SUCCESS && host_visible) r = c->vkMapMemory(c->device, b->memory, 0, VK_WHOLE_SIZE, 0, &b->host);
    if (r != VK_SUCCESS) {
        vkr_set_error(error, error_len, "allocating %llu bytes of Vulkan memory failed: %s",
                      (unsigned long long)bytes, vkr_result_name(r));
        vkr_buffer_destroy(c, b);
        return NULL;
    }
    return b;
}

void vkr_buffer_destroy(vkr_context *c, vkr_buffer *b) {
    if (!b) return;
    if (b->host) c->vkUnmapMemory(c->device, b->memory);
    if (b->buffer) c->vkDestroyBuffer(c->device, b->buffer, NULL);
    if (b->memory) c->vkFreeMemory(c->device, b->memory, NULL);
    free(b);
}

void *vkr_buffer_host(vkr_buffer *b) { return b->host; }

uint64_t vkr_buffer_size(const vkr_buffer *b) { return b->size; }
