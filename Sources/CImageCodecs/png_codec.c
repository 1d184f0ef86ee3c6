// PNG decode/encode with libpng's classic API, made safe to call from Swift.
//
// libpng reports errors by calling our error function, which records the
// message and longjmps to png_jmpbuf(). Warnings are dropped (no stderr).
// Same setjmp discipline as jpeg_codec.c: state lives in a job struct owned
// by the public function; the `*_guarded` helper does the setjmp.

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "codec_internal.h"
#include "image_codecs.h"

typedef struct {
    png_structp png;
    png_infop info;
    const unsigned char *data;
    size_t size;
    size_t offset;
    int status;          // reported after a longjmp
    unsigned char **rows;  // row pointers into out->pixels
    vision_decoded_image *out;
} png_decode_job;

static void on_png_decode_error(png_structp png, png_const_charp text) {
    png_decode_job *job = png_get_error_ptr(png);
    codec_set_message(job->out->message, "%s", text);
    png_longjmp(png, 1);
}

static void ignore_png_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void read_from_memory(png_structp png, png_bytep destination, size_t length) {
    png_decode_job *job = png_get_io_ptr(png);
    if (length > job->size - job->offset) {
        job->status = VISION_CODEC_TRUNCATED;
        png_error(png, "unexpected end of data");
    }
    memcpy(destination, job->data + job->offset, length);
    job->offset += length;
}

/// Asks libpng for 8-bit RGB whatever the file holds: palette -> RGB, low-bit
/// gray -> 8 bits, 16-bit -> high byte, alpha (and tRNS) dropped without
/// compositing, gray -> RGB. This is what Pillow's convert("RGB") and
/// torchvision's read_image(mode=RGB) produce.
static void request_rgb8(png_structp png, int color_type, int bit_depth) {
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16) png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
}

/// The least chunk allocation allowed, whatever the file's size (libpng's own suggested cap).
#define PNG_CHUNK_LIMIT_FLOOR ((size_t)8000000)

/// libpng (1.6.39) allocates an ancillary chunk (tEXt, iCCP, ...) at its declared
/// length before reading it, whatever png_set_chunk_malloc_max says: a 64-byte
/// file declaring a 1 GB tEXt chunk made it malloc 1 GB (found by Tests/Fuzz).
/// So the chunks before the image data are walked here first, and one longer than
/// the bytes left is reported as truncation without libpng seeing it. Chunks from
/// the first IDAT on are streamed by libpng and never allocated whole.
static int check_chunk_lengths(const unsigned char *data, size_t size, char *message) {
    size_t offset = 8;  // after the signature
    while (size >= 8 && offset <= size - 8) {
        const unsigned char *header = data + offset;
        size_t length = (size_t)header[0] << 24 | (size_t)header[1] << 16 | (size_t)header[2] << 8 | header[3];
        if (memcmp(header + 4, "IDAT", 4) == 0) return VISION_CODEC_OK;
        size_t left = size - offset - 8;
        if (length > left) {
            char type[5];
            for (int i = 0; i < 4; i++) type[i] = (header[4 + i] >= 0x20 && header[4 + i] < 0x7f) ? (char)header[4 + i] : '?';
            type[4] = 0;
            codec_set_message(message, "chunk %s declares %zu bytes, %zu left", type, length, left);
            return VISION_CODEC_TRUNCATED;
        }
        offset += 8 + length + 4;  // header, data, CRC
    }
    return VISION_CODEC_OK;  // libpng reports whatever else is wrong
}

static int decode_png_guarded(png_decode_job *job, long long max_pixels) {
    job->status = VISION_CODEC_ERROR;
    if (setjmp(png_jmpbuf(job->png))) return job->status;

    png_set_read_fn(job->png, job, read_from_memory);
    // Lift libpng's default 1e6 x 1e6 cap so the caller's pixel limit decides.
    png_set_user_limits(job->png, 0x7fffffff, 0x7fffffff);
    // Bounds what inflating a zTXt/iCCP/iTXt chunk may allocate (8 MB, or the file's size).
    png_set_chunk_malloc_max(job->png, job->size > PNG_CHUNK_LIMIT_FLOOR ? job->size : PNG_CHUNK_LIMIT_FLOOR);
    png_read_info(job->png, job->info);
    png_uint_32 width = png_get_image_width(job->png, job->info);
    png_uint_32 height = png_get_image_height(job->png, job->info);
    job->out->width = (int)width;
    job->out->height = (int)height;
    if ((long long)width * (long long)height > max_pixels) return VISION_CODEC_TOO_LARGE;

    request_rgb8(job->png, png_get_color_type(job->png, job->info),
                 png_get_bit_depth(job->png, job->info));
    png_read_update_info(job->png, job->info);
    size_t row_bytes = (size_t)width * 3;
    if (png_get_channels(job->png, job->info) != 3 || png_get_bit_depth(job->png, job->info) != 8 ||
        png_get_rowbytes(job->png, job->info) != row_bytes) {
        codec_set_message(job->out->message, "unsupported PNG pixel layout");
        return VISION_CODEC_ERROR;
    }

    job->out->pixels = malloc(row_bytes * height);
    job->rows = malloc(sizeof(unsigned char *) * height);
    if (job->out->pixels == NULL || job->rows == NULL) {
        codec_set_message(job->out->message, "out of memory");
        return VISION_CODEC_OUT_OF_MEMORY;
    }
    for (png_uint_32 y = 0; y < height; y++) job->rows[y] = job->out->pixels + row_bytes * y;
    png_read_image(job->png, job->rows);
    // Chunks after the image data (and the IEND marker) are not read: like
    // Pillow, a file whose pixels are complete decodes even if its tail is cut.
    return VISION_CODEC_OK;
}

int vision_decode_png(const unsigned char *data, size_t size, long long max_pixels,
                      vision_decoded_image *out) {
    memset(out, 0, sizeof *out);
    png_decode_job job;
    memset(&job, 0, sizeof job);
    job.out = out;
    job.data = data;
    job.size = size;
    job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, on_png_decode_error, ignore_png_warning);
    if (job.png) job.info = png_create_info_struct(job.png);
    if (job.png == NULL || job.info == NULL) {
        png_destroy_read_struct(job.png ? &job.png : NULL, NULL, NULL);
        codec_set_message(out->message, "out of memory");
        return VISION_CODEC_OUT_OF_MEMORY;
    }

    int status = check_chunk_lengths(data, size, out->message);
    if (status == VISION_CODEC_OK) status = decode_png_guarded(&job, max_pixels);
    if (status == VISION_CODEC_TOO_LARGE) {
        codec_set_message(out->message, "%dx%d pixels exceeds the limit of %lld pixels",
                          out->width, out->height, max_pixels);
    }
    png_destroy_read_struct(&job.png, &job.info, NULL);
    free(job.rows);
    if (status != VISION_CODEC_OK) vision_codec_release_image(out);
    return status;
}

// MARK: - Encode

typedef struct {
    png_structp png;
    png_infop info;
    growable_buffer buffer;
    int status;
    vision_encoded_buffer *out;
} png_encode_job;

static void on_png_encode_error(png_structp png, png_const_charp text) {
    png_encode_job *job = png_get_error_ptr(png);
    codec_set_message(job->out->message, "%s", text);
    png_longjmp(png, 1);
}

static void write_to_memory(png_structp png, png_bytep data, size_t length) {
    png_encode_job *job = png_get_io_ptr(png);
    if (!growable_buffer_append(&job->buffer, data, length)) {
        job->status = VISION_CODEC_OUT_OF_MEMORY;
        png_error(png, "out of memory");
    }
}

static void flush_nothing(png_structp png) { (void)png; }

static int encode_png_guarded(png_encode_job *job, const unsigned char *rgb, int width, int height,
                              const char *comment) {
    job->status = VISION_CODEC_ERROR;
    if (setjmp(png_jmpbuf(job->png))) return job->status;

    png_set_write_fn(job->png, job, write_to_memory, flush_nothing);
    png_set_IHDR(job->png, job->info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (comment != NULL) {
        png_text text;
        memset(&text, 0, sizeof text);
        text.compression = PNG_TEXT_COMPRESSION_NONE;
        text.key = "Comment";
        text.text = (png_charp)comment;
        text.text_length = strlen(comment);
        png_set_text(job->png, job->info, &text, 1);
    }
    png_write_info(job->png, job->info);
    size_t row_bytes = (size_t)width * 3;
    for (int y = 0; y < height; y++) png_write_row(job->png, rgb + row_bytes * (size_t)y);
    png_write_end(job->png, job->info);
    return VISION_CODEC_OK;
}

int vision_encode_png(const unsigned char *rgb, int width, int height, const char *comment,
                      vision_encoded_buffer *out) {
    memset(out, 0, sizeof *out);
    png_encode_job job;
    memset(&job, 0, sizeof job);
    job.out = out;
    job.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &job, on_png_encode_error, ignore_png_warning);
    if (job.png) job.info = png_create_info_struct(job.png);
    if (job.png == NULL || job.info == NULL) {
        png_destroy_write_struct(job.png ? &job.png : NULL, NULL);
        codec_set_message(out->message, "out of memory");
        return VISION_CODEC_OUT_OF_MEMORY;
    }

    int status = encode_png_guarded(&job, rgb, width, height, comment);
    png_destroy_write_struct(&job.png, &job.info);
    if (status == VISION_CODEC_OK) {
        out->bytes = job.buffer.bytes;
        out->size = job.buffer.size;
    } else {
        free(job.buffer.bytes);
    }
    return status;
}
