// FFmpeg logs to stderr by default; vision keeps stderr for its own one-line
// errors, so FFmpeg's lines are dropped and only the last error-level one is
// kept (per thread) to explain a failure.

#include "video_codecs.h"
#include "video_internal.h"

#include <libavutil/avutil.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[VISION_VIDEO_MESSAGE_CAPACITY];
static _Thread_local char truncation_note[VISION_VIDEO_MESSAGE_CAPACITY];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void log_callback(void *context, int level, const char *format, va_list args) {
    (void)context;
    if (level > AV_LOG_WARNING) return;
    char line[VISION_VIDEO_MESSAGE_CAPACITY];
    vsnprintf(line, sizeof line, format, args);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' ')) line[--n] = 0;
    // Some demuxers (Matroska/WebM) meet a cut-off file with only a warning and
    // a clean end of stream; the warning is the one sign of the lost frames.
    if (strstr(line, "ended prematurely") || strstr(line, "partial file") || strstr(line, "truncated")) {
        snprintf(truncation_note, sizeof truncation_note, "%s", line);
    }
    if (level <= AV_LOG_ERROR) snprintf(last_error, sizeof last_error, "%s", line);
}

static void install(void) { av_log_set_callback(log_callback); }

void vision_video_install_log(void) { pthread_once(&install_once, install); }

const char *vision_video_take_truncation_note(void) {
    static _Thread_local char taken[VISION_VIDEO_MESSAGE_CAPACITY];
    snprintf(taken, sizeof taken, "%s", truncation_note);
    truncation_note[0] = 0;
    return taken;
}

void vision_video_describe(char *message, const char *what, int code) {
    char text[128] = "";
    if (code != 0) av_strerror(code, text, sizeof text);
    int n = snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "%s%s%s", what, code != 0 ? ": " : "", text);
    if (last_error[0] && n >= 0 && n < VISION_VIDEO_MESSAGE_CAPACITY) {
        snprintf(message + n, VISION_VIDEO_MESSAGE_CAPACITY - n, " (%s)", last_error);
    }
    last_error[0] = 0;
}
