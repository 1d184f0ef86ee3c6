// A thin C layer over Vulkan compute for the Swift Vulkan backend. The Vulkan loader
// is opened at run time (dlopen of a path the caller names, normally "libvulkan.so.1"),
// never linked, so a program using this layer starts where no Vulkan is installed.
//
// Every call that can fail writes one line of text into `error` (error_len bytes) and
// returns NULL or a non-zero code. A context is not thread-safe: the caller serialises.
//
// Recording model: dispatches and copies are appended to the context's one open command
// buffer, each preceded by a full compute/transfer memory barrier (so they run in the
// order recorded, each seeing the previous one's writes); vkr_submit_and_wait runs them.

#ifndef VK_RUNTIME_H
#define VK_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vkr_context vkr_context;
typedef struct vkr_buffer vkr_buffer;
typedef struct vkr_pipeline vkr_pipeline;

/// One physical device as `vision devices` lists it.
typedef struct {
    char name[256];
    /// VkPhysicalDeviceType: 0 other, 1 integrated GPU, 2 discrete GPU, 3 virtual GPU, 4 CPU.
    uint32_t device_type;
    uint32_t api_version;
    uint32_t vendor_id;
    uint32_t device_id;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_count[3];
    uint32_t max_shared_memory_bytes;
    uint32_t max_push_constant_bytes;
    uint64_t max_storage_buffer_range;
    /// Sum of the device-local memory heaps.
    uint64_t device_local_bytes;
    /// Whether a queue family supports compute (the backend needs one).
    int has_compute_queue;
} vkr_device_info;

/// Fills `out` with up to `capacity` devices and sets `*count` to the number found.
/// Returns 0, or non-zero with `error` set (loader missing, no instance).
int vkr_list_devices(const char *loader_path, vkr_device_info *out, int capacity, int *count,
                     char *error, size_t error_len);

/// Opens the loader, creates an instance and a logical device with one compute queue
/// on device `device_index`; `info` (may be NULL) receives that device's description.
vkr_context *vkr_context_create(const char *loader_path, int device_index, vkr_device_info *info,
                                char *error, size_t error_len);
/// Waits for the device, then frees everything the context made (buffers and pipelines first).
void vkr_context_destroy(vkr_context *context);

/// A storage buffer of at least `bytes` bytes: device-local memory when `host_visible` is 0,
/// host-visible coherent memory (persistently mapped, see vkr_buffer_host) otherwise.
vkr_buffer *vkr_buffer_create(vkr_context *context, uint64_t bytes, int host_visible,
                              char *error, size_t error_len);
void vkr_buffer_destroy(vkr_context *context, vkr_buffer *buffer);
/// The mapped host address of a host-visible buffer, NULL for a device-local one.
void *vkr_buffer_host(vkr_buffer *buffer);
uint64_t vkr_buffer_size(const vkr_buffer *buffer);

/// A compute pipeline from SPIR-V (`code_bytes` bytes, entry point "main") whose
/// descriptor set 0 has `binding_count` storage buffers at bindings 0..<binding_count
/// and whose push constants are `push_bytes` bytes (0 for none).
vkr_pipeline *vkr_pipeline_create(vkr_context *context, const uint32_t *code, size_t code_bytes,
                                  uint32_t binding_count, uint32_t push_bytes, char *error, size_t error_len);
void vkr_pipeline_destroy(vkr_context *context, vkr_pipeline *pipeline);

/// Appends a dispatch of `pipeline` over `groups_x * groups_y * groups_z` workgroups with
/// `buffers[i]` at binding i (exactly the pipeline's binding count) and `push` as its push
/// constants. When the per-submit descriptor budget is spent, the recorded work is
/// submitted and waited for first (transparently).
int vkr_record_dispatch(vkr_context *context, vkr_pipeline *pipeline, vkr_buffer *const *buffers,
                        uint32_t buffer_count, const void *push, uint32_t push_bytes,
                        uint32_t groups_x, uint32_t groups_y, uint32_t groups_z, char *error, size_t error_len);

/// Appends copies of `region_count` byte ranges from `source` to `destination`
/// (offsets and sizes in bytes, three arrays of `region_count`).
int vkr_record_copy(vkr_context *context, vkr_buffer *source, vkr_buffer *destination, uint32_t region_count,
                    const uint64_t *source_offsets, const uint64_t *destination_offsets, const uint64_t *sizes,
                    char *error, size_t error_len);

/// Appends a fill of `bytes` bytes at `offset` with the 32-bit pattern `value` (offset and
/// bytes multiples of 4).
int vkr_record_fill(vkr_context *context, vkr_buffer *buffer, uint64_t offset, uint64_t bytes, uint32_t value,
                    char *error, size_t error_len);

/// Runs everything recorded since the last submit and waits for it; host-visible buffers
/// then hold what the recorded work wrote. A no-op when nothing is recorded.
int vkr_submit_and_wait(vkr_context *context, char *error, size_t error_len);

/// Number of commands recorded and not yet submitted.
uint32_t vkr_recorded_count(const vkr_context *context);

#ifdef __cplusplus
}
#endif

#endif
