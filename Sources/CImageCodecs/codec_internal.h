#ifndef VISION_CODEC_INTERNAL_H
#define VISION_CODEC_INTERNAL_H
// Helpers shared by the JPEG and PNG halves of the shim (not exported).

#include <stddef.h>

/// A malloc-backed byte buffer that grows by doubling; encoders write into it.
typedef struct {
    unsigned char *bytes;
    size_t size;
    size_t capacity;
} growable_buffer;

/// Appends `length` bytes; returns 0 when memory runs out (buffer unchanged).
int growable_buffer_append(growable_buffer *buffer, const unsigned char *data, size_t length);

/// Writes a printf-style message into a VISION_CODEC_MESSAGE_CAPACITY buffer.
void codec_set_message(char *message, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif
