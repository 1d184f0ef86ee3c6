// JPEG decode/encode with libjpeg-turbo, made safe to call from Swift.
//
// libjpeg reports fatal errors through error_exit(), which by default prints
// and calls exit(). We install an error manager that formats the message into
// the caller's buffer and longjmps back to the public function's guard.
//
// setjmp discipline: each public function keeps all state in a `job` struct in
// its own frame and calls a `*_guarded` helper that does the setjmp and takes
// only a pointer to the job. The job is therefore not an automatic variable of
// the function that called setjmp, so its fields are valid after the longjmp,
// and all cleanup happens in one place, in the public function (jpeg_destroy_*
// is a no-op on a zeroed struct, so it is safe even if creation failed).

#include <setjmp.h>
#include <stdio.h>  // jpeglib.h needs FILE and size_t first
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "codec_internal.h"
#include "image_codecs.h"

/// libjpeg hands callbacks a pointer to `base`, so it must come first.
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    int status;
    /// Set once every scanline is in: a missing EOI marker after that is harmless.
    int all_rows_read;
    char *message;
} recovering_error_manager;

static void jpeg_fail(j_common_ptr cinfo, int status) {
    recovering_error_manager *manager = (recovering_error_manager *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    codec_set_message(manager->message, "%s", text);
    manager->status = status;
    longjmp(manager->jump, 1);
}

static void on_jpeg_error(j_common_ptr cinfo) { jpeg_fail(cinfo, VISION_CODEC_ERROR); }

/// Replaces libjpeg's emit_message: never prints. On premature end of data
/// libjpeg only warns and pads the image with grey; we make that an error.
static void on_jpeg_message(j_common_ptr cinfo, int message_level) {
    if (message_level >= 0) return;  // trace messages
    recovering_error_manager *manager = (recovering_error_manager *)cinfo->err;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF && !manager->all_rows_read) {
        jpeg_fail(cinfo, VISION_CODEC_TRUNCATED);
    }
    cinfo->err->num_warnings++;  // other corrupt-data warnings: tolerated, as Pillow does
}

static void install_error_manager(recovering_error_manager *manager, struct jpeg_error_mgr **slot,
                                  char *message) {
    *slot = jpeg_std_error(&manager->base);
    manager->base.error_exit = on_jpeg_error;
    manager->base.emit_message = on_jpeg_message;
    manager->status = VISION_CODEC_ERROR;
    manager->all_rows_read = 0;
    manager->message = message;
}

// MARK: - Decode

typedef struct {
    struct jpeg_decompress_struct cinfo;
    recovering_error_manager errors;
    unsigned char *cmyk_row;  // scratch row for CMYK files
    vision_decoded_image *out;
} jpeg_decode_job;

/// Pillow's (a*b)/255 with rounding, used by its CMYK -> RGB conversion.
static inline int multiply_divide_255(int a, int b) {
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

/// CMYK samples as libjpeg returns them -> RGB, matching Pillow: Pillow reads
/// every CMYK JPEG as "CMYK;I" (Adobe's inverted convention, which is what
/// Photoshop and libjpeg's own writer produce), then convert("RGB") computes
/// channel = (255-K) - C*(255-K)/255.
static void cmyk_row_to_rgb(const unsigned char *cmyk, unsigned char *rgb, int width) {
    for (int x = 0; x < width; x++, cmyk += 4, rgb += 3) {
        int not_black = cmyk[3];  // 255 - (255 - stored K)
        for (int channel = 0; channel < 3; channel++) {
            int ink = 255 - cmyk[channel];
            rgb[channel] = (unsigned char)(not_black - multiply_divide_255(ink, not_black));
        }
    }
}

/// Copies the first APP1 marker that carries EXIF, minus its "Exif\0\0" prefix.
static void copy_exif(jpeg_decode_job *job) {
    for (jpeg_saved_marker_ptr marker = job->cinfo.marker_list; marker; marker = marker->next) {
        if (marker->marker != JPEG_APP0 + 1 || marker->data_length < 6) continue;
        if (memcmp(marker->data, "Exif\0\0", 6) != 0) continue;
        size_t size = marker->data_length - 6;
        job->out->exif = malloc(size ? size : 1);
        if (job->out->exif == NULL) return;  // orientation is optional; decode anyway
        memcpy(job->out->exif, marker->data + 6, size);
        job->out->exif_size = size;
        return;
    }
}

static int decode_jpeg_guarded(jpeg_decode_job *job, const unsigned char *data, size_t size,
                               long long max_pixels) {
    struct jpeg_decompress_struct *cinfo = &job->cinfo;
    if (setjmp(job->errors.jump)) return job->errors.status;

    jpeg_create_decompress(cinfo);
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);

    // Refuse decompression bombs from the header, before any pixel allocation.
    job->out->width = (int)cinfo->image_width;
    job->out->height = (int)cinfo->image_height;
    long long pixels = (long long)cinfo->image_width * (long long)cinfo->image_height;
    if (pixels > max_pixels) return VISION_CODEC_TOO_LARGE;

    copy_exif(job);
    int is_cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = is_cmyk ? JCS_CMYK : JCS_RGB;  // libjpeg converts YCCK -> CMYK
    jpeg_start_decompress(cinfo);

    int width = (int)cinfo->output_width;
    size_t row_bytes = (size_t)width * 3;
    job->out->pixels = malloc(row_bytes * cinfo->output_height);
    if (job->out->pixels == NULL) {
        codec_set_message(job->out->message, "out of memory");
        return VISION_CODEC_OUT_OF_MEMORY;
    }
    if (is_cmyk) {
        job->cmyk_row = malloc((size_t)width * 4);
        if (job->cmyk_row == NULL) {
            codec_set_message(job->out->message, "out of memory");
            return VISION_CODEC_OUT_OF_MEMORY;
        }
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        unsigned char *rgb_row = job->out->pixels + row_bytes * cinfo->output_scanline;
        JSAMPROW row = is_cmyk ? job->cmyk_row : rgb_row;
        jpeg_read_scanlines(cinfo, &row, 1);
        if (is_cmyk) cmyk_row_to_rgb(job->cmyk_row, rgb_row, width);
    }
    job->errors.all_rows_read = 1;
    jpeg_finish_decompress(cinfo);
    return VISION_CODEC_OK;
}

int vision_decode_jpeg(const unsigned char *data, size_t size, long long max_pixels,
                       vision_decoded_image *out) {
    memset(out, 0, sizeof *out);
    jpeg_decode_job job;
    memset(&job, 0, sizeof job);
    job.out = out;
    install_error_manager(&job.errors, &job.cinfo.err, out->message);

    int status = decode_jpeg_guarded(&job, data, size, max_pixels);
    if (status == VISION_CODEC_TOO_LARGE) {
        codec_set_message(out->message, "%dx%d pixels exceeds the limit of %lld pixels",
                          out->width, out->height, max_pixels);
    }
    jpeg_destroy_decompress(&job.cinfo);
    free(job.cmyk_row);
    if (status != VISION_CODEC_OK) vision_codec_release_image(out);
    return status;
}

// MARK: - Encode

/// A destination manager that appends libjpeg's output to a growable buffer
/// we own (jpeg_mem_dest's own buffer would leak if compression fails midway).
typedef struct {
    struct jpeg_destination_mgr base;
    unsigned char chunk[16384];
    growable_buffer buffer;
} memory_destination;

static void start_destination(j_compress_ptr cinfo) {
    memory_destination *destination = (memory_destination *)cinfo->dest;
    destination->base.next_output_byte = destination->chunk;
    destination->base.free_in_buffer = sizeof destination->chunk;
}

static boolean flush_full_chunk(j_compress_ptr cinfo) {
    memory_destination *destination = (memory_destination *)cinfo->dest;
    if (!growable_buffer_append(&destination->buffer, destination->chunk, sizeof destination->chunk)) {
        ERREXIT(cinfo, JERR_OUT_OF_MEMORY);
    }
    start_destination(cinfo);
    return TRUE;
}

static void flush_last_chunk(j_compress_ptr cinfo) {
    memory_destination *destination = (memory_destination *)cinfo->dest;
    size_t used = sizeof destination->chunk - destination->base.free_in_buffer;
    if (!growable_buffer_append(&destination->buffer, destination->chunk, used)) {
        ERREXIT(cinfo, JERR_OUT_OF_MEMORY);
    }
}

typedef struct {
    struct jpeg_compress_struct cinfo;
    recovering_error_manager errors;
    memory_destination destination;
} jpeg_encode_job;

static int encode_jpeg_guarded(jpeg_encode_job *job, const unsigned char *rgb, int width, int height,
                               int quality, const char *comment) {
    struct jpeg_compress_struct *cinfo = &job->cinfo;
    if (setjmp(job->errors.jump)) return job->errors.status;

    jpeg_create_compress(cinfo);
    job->destination.base.init_destination = start_destination;
    job->destination.base.empty_output_buffer = flush_full_chunk;
    job->destination.base.term_destination = flush_last_chunk;
    cinfo->dest = &job->destination.base;
    cinfo->image_width = (JDIMENSION)width;
    cinfo->image_height = (JDIMENSION)height;
    cinfo->input_components = 3;
    cinfo->in_color_space = JCS_RGB;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    jpeg_start_compress(cinfo, TRUE);
    if (comment != NULL) {
        size_t length = strlen(comment);
        // A marker segment holds at most 65533 payload bytes.
        jpeg_write_marker(cinfo, JPEG_COM, (const JOCTET *)comment, (unsigned)(length > 65533 ? 65533 : length));
    }
    size_t row_bytes = (size_t)width * 3;
    while (cinfo->next_scanline < cinfo->image_height) {
        // libjpeg's API is not const-correct; it only reads the row.
        JSAMPROW row = (JSAMPROW)(rgb + row_bytes * cinfo->next_scanline);
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    return VISION_CODEC_OK;
}

int vision_encode_jpeg(const unsigned char *rgb, int width, int height, int quality,
                       const char *comment, vision_encoded_buffer *out) {
    memset(out, 0, sizeof *out);
    jpeg_encode_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        codec_set_message(out->message, "out of memory");
        return VISION_CODEC_OUT_OF_MEMORY;
    }
    install_error_manager(&job->errors, &job->cinfo.err, out->message);

    int status = encode_jpeg_guarded(job, rgb, width, height, quality, comment);
    jpeg_destroy_compress(&job->cinfo);
    if (status == VISION_CODEC_OK) {
        out->bytes = job->destination.buffer.bytes;
        out->size = job->destination.buffer.size;
    } else {
        free(job->destination.buffer.bytes);
    }
    free(job);
    return status;
}
