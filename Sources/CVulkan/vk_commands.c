// Compute pipelines, and recording dispatches and copies into the context's one
// command buffer, each behind a full memory barrier; submitting and waiting.

#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

vkr_pipeline *vkr_pipeline_create(vkr_context *c, const uint32_t *code, size_t code_bytes, uint32_t binding_count,
                                  uint32_t push_bytes, char *error, size_t error_len) {
    if (binding_count > VKR_MAX_BINDINGS) {
        vkr_set_error(error, error_len, "a pipeline with %u bindings (at most %d)", binding_count, VKR_MAX_BINDINGS);
        return NULL;
    }
    if (push_bytes > c->limits.maxPushConstantsSize) {
        vkr_set_error(error, error_len, "%u bytes of push constants, the device allows %u", push_bytes,
                      c->limits.maxPushConstantsSize);
        return NULL;
    }
    vkr_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        vkr_set_error(error, error_len, "out of host memory");
        return NULL;
    }
    p->binding_count = binding_count;
    p->push_bytes = push_bytes;
    VkShaderModuleCreateInfo module = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = code_bytes, .pCode = code,
    };
    VkResult r = c->vkCreateShaderModule(c->device, &module, NULL, &p->module);
    if (r != VK_SUCCESS) goto fail;
    VkDescriptorSetLayoutBinding bindings[VKR_MAX_BINDINGS];
    for (uint32_t i = 0; i < binding_count; i++) {
        bindings[i] = (VkDescriptorSetLayoutBinding){
            .binding = i, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    }
    VkDescriptorSetLayoutCreateInfo set = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = binding_count, .pBindings = bindings,
    };
    if ((r = c->vkCreateDescriptorSetLayout(c->device, &set, NULL, &p->set_layout)) != VK_SUCCESS) goto fail;
    VkPushConstantRange range = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = push_bytes};
    VkPipelineLayoutCreateInfo layout = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1, .pSetLayouts = &p->set_layout,
        .pushConstantRangeCount = push_bytes ? 1 : 0, .pPushConstantRanges = push_bytes ? &range : NULL,
    };
    if ((r = c->vkCreatePipelineLayout(c->device, &layout, NULL, &p->layout)) != VK_SUCCESS) goto fail;
    VkComputePipelineCreateInfo pipeline = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = p->module, .pName = "main",
        },
        .layout = p->layout,
    };
    if ((r = c->vkCreateComputePipelines(c->device, VK_NULL_HANDLE, 1, &pipeline, NULL, &p->pipeline)) != VK_SUCCESS) goto fail;
    return p;
fail:
    vkr_set_error(error, error_len, "creating a compute pipeline failed: %s", vkr_result_name(r));
    vkr_pipeline_destroy(c, p);
    return NULL;
}

void vkr_pipeline_destroy(vkr_context *c, vkr_pipeline *p) {
    if (!p) return;
    if (p->pipeline) c->vkDestroyPipeline(c->device, p->pipeline, NULL);
    if (p->layout) c->vkDestroyPipelineLayout(c->device, p->layout, NULL);
    if (p->set_layout) c->vkDestroyDescriptorSetLayout(c->device, p->set_layout, NULL);
    if (p->module) c->vkDestroyShaderModule(c->device, p->module, NULL);
    free(p);
}

static const VkPipelineStageFlags all_stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;

/// Begins the command buffer, or (when something is recorded) appends a barrier making
/// every earlier compute and transfer write visible to everything recorded next.
static int prepare_command(vkr_context *c, char *error, size_t error_len) {
    if (c->recorded == 0) {
        VkCommandBufferBeginInfo begin = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
        };
        VkResult r = c->vkBeginCommandBuffer(c->commands, &begin);
        if (r != VK_SUCCESS) {
            vkr_set_error(error, error_len, "vkBeginCommandBuffer failed: %s", vkr_result_name(r));
            return 1;
        }
        return 0;
    }
    VkMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT
            | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    c->vkCmdPipelineBarrier(c->commands, all_stages, all_stages, 0, 1, &barrier, 0, NULL, 0, NULL);
    return 0;
}

int vkr_record_dispatch(vkr_context *c, vkr_pipeline *p, vkr_buffer *const *buffers, uint32_t buffer_count,
                        const void *push, uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz,
                        char *error, size_t error_len) {
    if (buffer_count != p->binding_count || push_bytes != p->push_bytes) {
        vkr_set_error(error, error_len, "dispatch with %u buffers and %u push bytes for a pipeline of %u and %u",
                      buffer_count, push_bytes, p->binding_count, p->push_bytes);
        return 1;
    }
    if (gx == 0 || gy == 0 || gz == 0) return 0;
    if (gx > c->limits.maxComputeWorkGroupCount[0] || gy > c->limits.maxComputeWorkGroupCount[1]
        || gz > c->limits.maxComputeWorkGroupCount[2]) {
        vkr_set_error(error, error_len, "dispatch of %u x %u x %u workgroups exceeds the device's %u x %u x %u",
                      gx, gy, gz, c->limits.maxComputeWorkGroupCount[0], c->limits.maxComputeWorkGroupCount[1],
                      c->limits.maxComputeWorkGroupCount[2]);
        return 1;
    }
    if (c->sets_used == VKR_SETS_PER_SUBMIT && vkr_submit_and_wait(c, error, error_len)) return 1;
    VkDescriptorSetAllocateInfo allocate = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, .descriptorPool = c->descriptor_pool,
        .descriptorSetCount = 1, .pSetLayouts = &p->set_layout,
    };
    VkDescriptorSet set;
    VkResult r = c->vkAllocateDescriptorSets(c->device, &allocate, &set);
    if (r != VK_SUCCESS) {
        vkr_set_error(error, error_len, "vkAllocateDescriptorSets failed: %s", vkr_result_name(r));
        return 1;
    }
    c->sets_used++;
    VkDescriptorBufferInfo infos[VKR_MAX_BINDINGS];
    VkWriteDescriptorSet writes[VKR_MAX_BINDINGS];
    for (uint32_t i = 0; i < buffer_count; i++) {
        infos[i] = (VkDescriptorBufferInfo){.buffer = buffers[i]->buffer, .offset = 0, .range = buffers[i]->size};
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = i, .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &infos[i],
        };
    }
    c->vkUpdateDescriptorSets(c->device, buffer_count, writes, 0, NULL);
    if (prepare_command(c, error, error_len)) return 1;
    c->vkCmdBindPipeline(c->commands, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    c->vkCmdBindDescriptorSets(c->commands, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    if (push_bytes) c->vkCmdPushConstants(c->commands, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
    c->vkCmdDispatch(c->commands, gx, gy, gz);
    c->recorded++;
    return 0;
}

int vkr_record_copy(vkr_context *c, vkr_buffer *source, vkr_buffer *destination, uint32_t region_count,
                    const uint64_t *source_offsets, const uint64_t *destination_offsets, const uint64_t *sizes,
                    char *error, size_t error_len) {
    if (region_count == 0) return 0;
    VkBufferCopy *regions = malloc(sizeof *regions * region_count);
    if (!regions) {
        vkr_set_error(error, error_len, "out of host memory");
        return 1;
    }
    uint32_t used = 0;
    for (uint32_t i = 0; i < region_count; i++) {
        if (sizes[i] == 0) continue;
        if (source_offsets[i] + sizes[i] > source->size || destination_offsets[i] + sizes[i] > destination->size) {
            vkr_set_error(error, error_len, "buffer copy out of bounds");
            free(regions);
            return 1;
        }
        regions[used++] = (VkBufferCopy){.srcOffset = source_offsets[i], .dstOffset = destination_offsets[i], .size = sizes[i]};
    }
    if (used > 0) {
        if (prepare_command(c, error, error_len)) { free(regions); return 1; }
        c->vkCmdCopyBuffer(c->commands, source->buffer, destination->buffer, used, regions);
        c->recorded++;
    }
    free(regions);
    return 0;
}

int vkr_record_fill(vkr_context *c, vkr_buffer *buffer, uint64_t offset, uint64_t bytes, uint32_t value,
                    char *error, size_t error_len) {
    if (bytes == 0) return 0;
    if (offset % 4 || bytes % 4 || offset + bytes > buffer->size) {
        vkr_set_error(error, error_len, "buffer fill out of bounds or unaligned");
        return 1;
    }
    if (prepare_command(c, error, error_len)) return 1;
    c->vkCmdFillBuffer(c->commands, buffer->buffer, offset, bytes, value);
    c->recorded++;
    return 0;
}

int vkr_submit_and_wait(vkr_context *c, char *error, size_t error_len) {
    if (c->recorded == 0) return 0;
    // The last writes become visible to host reads of mapped memory after the fence.
    VkMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
    };
    c->vkCmdPipelineBarrier(c->commands, all_stages, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL, 0, NULL);
    VkResult r = c->vkEndCommandBuffer(c->commands);
    if (r == VK_SUCCESS) {
        VkSubmitInfo submit = {
            .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &c->commands,
        };
        r = c->vkQueueSubmit(c->queue, 1, &submit, c->fence);
    }
    if (r == VK_SUCCESS) r = c->vkWaitForFences(c->device, 1, &c->fence, VK_TRUE, UINT64_MAX);
    // Reset whatever happened, so the next recording starts from a clean state.
    c->vkResetFences(c->device, 1, &c->fence);
    c->vkResetCommandBuffer(c->commands, 0);
    c->vkResetDescriptorPool(c->device, c->descriptor_pool, 0);
    c->recorded = 0;
    c->sets_used = 0;
    if (r != VK_SUCCESS) {
        vkr_set_error(error, error_len, "running Vulkan commands failed: %s", vkr_result_name(r));
        return 1;
    }
    return 0;
}

uint32_t vkr_recorded_count(const vkr_context *c) { return c->recorded; }
