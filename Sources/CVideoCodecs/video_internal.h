#ifndef VISION_VIDEO_INTERNAL_H
#define VISION_VIDEO_INTERNAL_H
// Shared by the reader and the writer: FFmpeg's log routed away from stderr,
// and error codes turned into messages.

/// Installs (once per process) a log callback that drops FFmpeg's messages but
/// keeps the calling thread's last error-level line for vision_video_describe.
void vision_video_install_log(void);

/// Writes "<what>: <FFmpeg's text for code>" (code 0: none) plus, when FFmpeg
/// logged an error on this thread since the last call, " (<that line>)" into
/// `message` (VISION_VIDEO_MESSAGE_CAPACITY bytes).
void vision_video_describe(char *message, const char *what, int code);

/// The last FFmpeg warning on this thread that said the input was cut off
/// ("File ended prematurely", "partial file", ...), "" when none; clears it.
const char *vision_video_take_truncation_note(void);

#endif
