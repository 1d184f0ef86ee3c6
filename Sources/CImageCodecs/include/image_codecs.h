#ifndef VISION_IMAGE_CODECS_H
#define VISION_IMAGE_CODECS_H
// A small C shim over libjpeg-turbo and libpng. Both libraries report errors
// by longjmp (or, by default, exit()); Swift cannot do either, so every call
// below runs the library under its own setjmp and returns a status code plus
// the library's message. Nothing here prints to stderr.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes returned by every function in this header.
enum {
    VISION_CODEC_OK = 0,
    /// The library rejected the data; `message` says why.
    VISION_CODEC_ERROR = 1,
    /// The header's width*height exceeds the caller's pixel limit; nothing was
    /// allocated for pixels. `width` and `height` hold the header's values.
    VISION_CODEC_TOO_LARGE = 2,
    /// malloc failed.
    VISION_CODEC_OUT_OF_MEMORY = 3,
    /// The file claims a premature end (libjpeg's JWRN_JPEG_EOF / short PNG).
    VISION_CODEC_TRUNCATED = 4,
};

#define VISION_CODEC_MESSAGE_CAPACITY 256

/// A decoded image: interleaved 8-bit RGB, row-major, `width * height * 3`
/// bytes. Release with `vision_codec_release_image` (also safe after errors).
typedef struct {
    unsigned char *pixels;
    int width;
    int height;
    /// JPEG only: the payload of the first APP1 "Exif\0\0" marker (starting
    /// after those 6 bytes, i.e. at the TIFF header), or NULL.
    unsigned char *exif;
    size_t exif_size;
    char message[VISION_CODEC_MESSAGE_CAPACITY];
} vision_decoded_image;

/// Decodes a JPEG held in memory to RGB. Grayscale, YCbCr and RGB files are
/// converted by libjpeg; CMYK/YCCK files are read as CMYK and converted the
/// way Pillow's convert("RGB") does. Refuses images with more than
/// `max_pixels` pixels before allocating anything for them.
int vision_decode_jpeg(const unsigned char *data, size_t size, long long max_pixels,
                       vision_decoded_image *out);

/// Decodes a PNG held in memory to 8-bit RGB: every colour type and bit depth;
/// 16-bit samples keep their high byte, alpha is dropped (not composited),
/// palettes are expanded, gray is replicated. Same pixel limit as above.
int vision_decode_png(const unsigned char *data, size_t size, long long max_pixels,
                      vision_decoded_image *out);

/// Frees the buffers of a decoded image and clears the pointers.
void vision_codec_release_image(vision_decoded_image *image);

/// An encoded file in memory; release with `vision_codec_release_buffer`.
typedef struct {
    unsigned char *bytes;
    size_t size;
    char message[VISION_CODEC_MESSAGE_CAPACITY];
} vision_encoded_buffer;

/// Encodes 8-bit interleaved RGB as a baseline JPEG (quality 1...100, 4:2:0).
/// A non-NULL `comment` (NUL-terminated, at most 65533 bytes) is stored in a COM
/// marker right after the header, where a reader finds it in the first bytes.
int vision_encode_jpeg(const unsigned char *rgb, int width, int height, int quality,
                       const char *comment, vision_encoded_buffer *out);

/// Encodes 8-bit interleaved RGB as a non-interlaced PNG. A non-NULL `comment`
/// is stored as an uncompressed tEXt chunk (keyword "Comment") before the pixels.
int vision_encode_png(const unsigned char *rgb, int width, int height, const char *comment,
                      vision_encoded_buffer *out);

void vision_codec_release_buffer(vision_encoded_buffer *buffer);

#ifdef __cplusplus
}
#endif
#endif
