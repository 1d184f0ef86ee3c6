#ifndef VISION_VIDEO_CODECS_H
#define VISION_VIDEO_CODECS_H
// A thin C layer over FFmpeg's libavformat/libavcodec/libswscale: open a video
// and read its frames as RGB24; open an H.264/MP4 writer and feed it RGB24
// frames. FFmpeg's API is macro- and struct-heavy; Swift sees only these few
// functions and plain structs. Nothing here prints (FFmpeg's log is silenced to
// errors-only); every failure comes back as a status plus a message.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VISION_VIDEO_OK = 0,
    /// No more frames: the stream ended cleanly.
    VISION_VIDEO_END = 1,
    /// Failed; `message` says why. From next_frame: the frames before were good,
    /// no more follow (a truncated or corrupt file).
    VISION_VIDEO_ERROR = 2,
};

#define VISION_VIDEO_MESSAGE_CAPACITY 256

typedef struct {
    /// The frame size as shown: the coded size, turned when the container's display
    /// matrix asks for a 90 or 270 degree rotation (phone videos).
    int width;
    int height;
    /// The clockwise turn applied to every frame: 0, 90, 180 or 270.
    int rotation;
    /// The stream's average frame rate (FFmpeg's avg_frame_rate, or r_frame_rate
    /// when the container gives none); 0/1 when unknown.
    int frame_rate_num;
    int frame_rate_den;
    /// The unit of the frames' pts.
    int time_base_num;
    int time_base_den;
    /// The container's frame count; 0 when it does not say (Matroska, WebM).
    long long frame_count;
    char codec_name[32];
    /// The container's "comment" metadata tag ("" when none).
    char comment[VISION_VIDEO_MESSAGE_CAPACITY];
} vision_video_info;

typedef struct vision_video_reader vision_video_reader;

/// Opens the first video stream of `path` and its decoder. On failure *out is NULL.
int vision_video_open(const char *path, vision_video_reader **out, vision_video_info *info, char *message);

/// Decodes the next frame in decode output order. With `rgb` non-NULL, writes it
/// as `info.width * info.height * 3` bytes of RGB24 (turned by `info.rotation`, as
/// ffmpeg and players show it; scaled to that size should a frame differ); with NULL the conversion is skipped. `pts` is the frame's
/// best-effort timestamp in the stream's time base (synthesised from the frame
/// rate when the file has none).
int vision_video_next_frame(vision_video_reader *reader, unsigned char *rgb, long long *pts, char *message);

void vision_video_close(vision_video_reader *reader);

typedef struct vision_video_writer vision_video_writer;

/// Creates `path` as an MP4 holding one H.264 (libx264) stream of `width` x `height`
/// at the given frame rate; `pts` passed to write are in `time_base`. `comment`
/// becomes the MP4's comment tag. The container is chosen by name ("mp4"), not by
/// `path`'s extension, so a temporary name works.
int vision_video_writer_open(const char *path, int width, int height, int frame_rate_num, int frame_rate_den,
                             int time_base_num, int time_base_den, const char *comment,
                             vision_video_writer **out, char *message);

/// Encodes one RGB24 frame (`width * height * 3` bytes). A pts not above the
/// previous one is moved one tick past it (the encoder needs increasing pts).
int vision_video_writer_write(vision_video_writer *writer, const unsigned char *rgb, long long pts, char *message);

/// Flushes the encoder, writes the trailer and closes the file; frees `writer`.
int vision_video_writer_finish(vision_video_writer *writer, char *message);

/// Closes and frees without finishing (the file is left incomplete; remove it).
void vision_video_writer_abort(vision_video_writer *writer);

#ifdef __cplusplus
}
#endif

#endif
