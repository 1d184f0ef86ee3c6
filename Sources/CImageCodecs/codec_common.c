// Buffer and message helpers shared by jpeg_codec.c and png_codec.c.

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"
#include "image_codecs.h"

int growable_buffer_append(growable_buffer *buffer, const unsigned char *data, size_t length) {
    if (length > buffer->capacity - buffer->size) {
        size_t needed = buffer->size + length;
        size_t capacity = buffer->capacity ? buffer->capacity : 65536;
        while (capacity < needed) capacity *= 2;
        unsigned char *grown = realloc(buffer->bytes, capacity);
        if (grown == NULL) return 0;
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->size, data, length);
    buffer->size += length;
    return 1;
}

void codec_set_message(char *message, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, VISION_CODEC_MESSAGE_CAPACITY, format, arguments);
    va_end(arguments);
}

void vision_codec_release_image(vision_decoded_image *image) {
    free(image->pixels);
    free(image->exif);
    image->pixels = NULL;
    image->exif = NULL;
    image->exif_size = 0;
}

void vision_codec_release_buffer(vision_encoded_buffer *buffer) {
    free(buffer->bytes);
    buffer->bytes = NULL;
    buffer->size = 0;
}
