// Video decoding: libavformat demuxes, libavcodec decodes (one thread: the
// detector already owns the cores), libswscale converts to RGB24.

#include "video_codecs.h"
#include "video_internal.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <math.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <string.h>

struct vision_video_reader {
    AVFormatContext *format;
    AVCodecContext *decoder;
    int stream;
    AVPacket *packet;
    AVFrame *frame;
    struct SwsContext *scaler;
    /// The decoded (coded) frame size; `width` x `height` is the size shown.
    int coded_width, coded_height;
    int width, height;
    /// Clockwise turn (0, 90, 180, 270) the container asks players to apply
    /// (phone videos); frames are delivered turned, as ffmpeg and players show them.
    int rotation;
    /// The unturned RGB frame, when rotation != 0.
    unsigned char *unturned;
    /// The decoder has been sent the end of the stream.
    int draining;
    /// END or ERROR has been returned; every later call returns END.
    int finished;
    /// A read failure other than the clean end of the file.
    int read_error;
    char read_message[VISION_VIDEO_MESSAGE_CAPACITY];
    /// Packets the decoder rejected or the demuxer flagged as corrupt.
    long long bad_packets;
    char bad_message[VISION_VIDEO_MESSAGE_CAPACITY];
    long long frames;
    /// Packets of the video stream the demuxer delivered, and how many the header lists (0: unknown).
    long long packets;
    long long listed_packets;
    long long last_pts;
    /// One frame's duration in time-base units, for frames without a timestamp.
    long long pts_step;
};

static void note_bad(vision_video_reader *r, const char *what, int code) {
    if (r->bad_packets++ == 0) vision_video_describe(r->bad_message, what, code);
}

/// The stream's display-matrix rotation as a clockwise turn of 0, 90, 180 or 270
/// degrees, the way ffmpeg's own autorotation reads it; 0 for anything else.
static int display_rotation(const AVStream *st) {
    const int32_t *matrix = NULL;
#if LIBAVFORMAT_VERSION_MAJOR >= 61
    const AVPacketSideData *data = av_packet_side_data_get(st->codecpar->coded_side_data, st->codecpar->nb_coded_side_data,
                                                           AV_PKT_DATA_DISPLAYMATRIX);
    if (data && data->size >= 9 * sizeof(int32_t)) matrix = (const int32_t *)data->data;
#else
    size_t size = 0;
    const uint8_t *data = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (data && size >= 9 * sizeof(int32_t)) matrix = (const int32_t *)data;
#endif
    if (!matrix) return 0;
    double counterclockwise = av_display_rotation_get(matrix);
    if (isnan(counterclockwise)) return 0;
    long turn = lround(-counterclockwise) % 360;
    if (turn < 0) turn += 360;
    return (turn == 90 || turn == 180 || turn == 270) ? (int)turn : 0;
}

/// Turns the coded-size RGB image `src` clockwise by `rotation` into `dst`.
static void turn_rgb(const unsigned char *src, int w, int h, int rotation, unsigned char *dst) {
    int out_w = rotation == 180 ? w : h;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int ox, oy;
            if (rotation == 90) { ox = h - 1 - y; oy = x; }
            else if (rotation == 270) { ox = y; oy = w - 1 - x; }
            else { ox = w - 1 - x; oy = h - 1 - y; }
            const unsigned char *p = src + ((size_t)y * w + x) * 3;
            unsigned char *q = dst + ((size_t)oy * out_w + ox) * 3;
            q[0] = p[0]; q[1] = p[1]; q[2] = p[2];
        }
    }
}

int vision_video_open(const char *path, vision_video_reader **out, vision_video_info *info, char *message) {
    vision_video_install_log();
    *out = NULL;
    memset(info, 0, sizeof *info);
    vision_video_reader *r = calloc(1, sizeof *r);
    if (!r) { snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "out of memory"); return VISION_VIDEO_ERROR; }
    int ret = avformat_open_input(&r->format, path, NULL, NULL);
    if (ret < 0) {
        vision_video_describe(message, "cannot open as a video", ret);
        free(r);
        return VISION_VIDEO_ERROR;
    }
    vision_video_take_truncation_note();
    ret = avformat_find_stream_info(r->format, NULL);
    if (ret < 0) { vision_video_describe(message, "cannot read the stream headers", ret); goto fail; }
    const AVCodec *codec = NULL;
    r->stream = av_find_best_stream(r->format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (r->stream == AVERROR_DECODER_NOT_FOUND || (r->stream >= 0 && !codec)) {
        snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "no decoder for its video codec in this FFmpeg build");
        goto fail;
    }
    if (r->stream < 0) { snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "no video stream"); goto fail; }
    AVStream *st = r->format->streams[r->stream];
    r->decoder = avcodec_alloc_context3(codec);
    if (!r->decoder) { snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "out of memory"); goto fail; }
    ret = avcodec_parameters_to_context(r->decoder, st->codecpar);
    if (ret < 0) { vision_video_describe(message, "bad codec parameters", ret); goto fail; }
    r->decoder->thread_count = 1;
    r->decoder->pkt_timebase = st->time_base;
    ret = avcodec_open2(r->decoder, codec, NULL);
    if (ret < 0) { vision_video_describe(message, "cannot open the decoder", ret); goto fail; }
    r->coded_width = r->decoder->width;
    r->coded_height = r->decoder->height;
    if (r->coded_width <= 0 || r->coded_height <= 0) {
        snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "no frame size in the headers");
        goto fail;
    }
    r->rotation = display_rotation(st);
    int swap = r->rotation == 90 || r->rotation == 270;
    r->width = swap ? r->coded_height : r->coded_width;
    r->height = swap ? r->coded_width : r->coded_height;
    if (r->rotation) {
        r->unturned = malloc((size_t)r->coded_width * r->coded_height * 3);
        if (!r->unturned) { snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "out of memory"); goto fail; }
    }
    r->packet = av_packet_alloc();
    r->frame = av_frame_alloc();
    if (!r->packet || !r->frame) { snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "out of memory"); goto fail; }

    AVRational rate = st->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = st->r_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = (AVRational){0, 1};
    info->width = r->width;
    info->height = r->height;
    info->rotation = r->rotation;
    info->frame_rate_num = rate.num;
    info->frame_rate_den = rate.den;
    info->time_base_num = st->time_base.num;
    info->time_base_den = st->time_base.den;
    info->frame_count = st->nb_frames > 0 ? st->nb_frames : 0;
    r->listed_packets = info->frame_count;
    snprintf(info->codec_name, sizeof info->codec_name, "%s", codec->name);
    AVDictionaryEntry *comment = av_dict_get(r->format->metadata, "comment", NULL, 0);
    if (comment && comment->value) snprintf(info->comment, sizeof info->comment, "%s", comment->value);
    r->pts_step = rate.num > 0 ? av_rescale_q(1, av_inv_q(rate), st->time_base) : 1;
    if (r->pts_step <= 0) r->pts_step = 1;
    *out = r;
    return VISION_VIDEO_OK;
fail:
    vision_video_close(r);
    return VISION_VIDEO_ERROR;
}

/// END, or ERROR naming what went wrong, once the decoder is drained.
static int finish(vision_video_reader *r, char *message) {
    r->finished = 1;
    if (r->read_error) {
        snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "%s; %lld frame%s decoded", r->read_message, r->frames,
                 r->frames == 1 ? "" : "s");
        return VISION_VIDEO_ERROR;
    }
    if (r->bad_packets) {
        snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "truncated or corrupt: %lld packet%s could not be decoded (first: %s); "
                 "%lld frame%s decoded", r->bad_packets, r->bad_packets == 1 ? "" : "s", r->bad_message, r->frames,
                 r->frames == 1 ? "" : "s");
        return VISION_VIDEO_ERROR;
    }
    return VISION_VIDEO_END;
}

static int deliver(vision_video_reader *r, unsigned char *rgb, long long *pts, char *message) {
    AVFrame *f = r->frame;
    long long t = f->best_effort_timestamp;
    if (t == AV_NOPTS_VALUE) t = r->frames == 0 ? 0 : r->last_pts + r->pts_step;
    r->last_pts = t;
    *pts = t;
    r->frames++;
    int status = VISION_VIDEO_OK;
    if (rgb) {
        if (f->format < 0 || f->width <= 0 || f->height <= 0) {
            memset(rgb, 0, (size_t)r->width * r->height * 3);
        } else {
            r->scaler = sws_getCachedContext(r->scaler, f->width, f->height, f->format, r->coded_width, r->coded_height,
                                             AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
            if (!r->scaler) {
                snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "cannot convert %s frames to RGB",
                         av_get_pix_fmt_name(f->format) ? av_get_pix_fmt_name(f->format) : "its");
                status = VISION_VIDEO_ERROR;
                r->finished = 1;
            } else {
                uint8_t *dst[4] = {r->rotation ? r->unturned : rgb, NULL, NULL, NULL};
                int stride[4] = {r->coded_width * 3, 0, 0, 0};
                sws_scale(r->scaler, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
                if (r->rotation) turn_rgb(r->unturned, r->coded_width, r->coded_height, r->rotation, rgb);
            }
        }
    }
    av_frame_unref(f);
    return status;
}

int vision_video_next_frame(vision_video_reader *r, unsigned char *rgb, long long *pts, char *message) {
    message[0] = 0;
    if (r->finished) return VISION_VIDEO_END;
    long long receive_errors = 0;
    for (;;) {
        int ret = avcodec_receive_frame(r->decoder, r->frame);
        if (ret == 0) return deliver(r, rgb, pts, message);
        if (ret == AVERROR_EOF) return finish(r, message);
        if (ret != AVERROR(EAGAIN)) {
            note_bad(r, "decode error", ret);
            // A decoder that keeps failing without consuming input would loop forever.
            if (++receive_errors > 64) { r->draining = 1; return finish(r, message); }
            continue;
        }
        if (r->draining) return finish(r, message);
        ret = av_read_frame(r->format, r->packet);
        if (ret < 0) {
            const char *note = vision_video_take_truncation_note();
            if (ret != AVERROR_EOF) {
                r->read_error = 1;
                vision_video_describe(r->read_message, "truncated or corrupt: reading failed", ret);
            } else if (note[0]) {
                r->read_error = 1;
                snprintf(r->read_message, sizeof r->read_message, "truncated: %s", note);
            } else if (r->listed_packets > 0 && r->packets < r->listed_packets && avio_feof(r->format->pb)) {
                // The file ran out before the samples its index lists (an MP4 cut at a sample boundary).
                r->read_error = 1;
                snprintf(r->read_message, sizeof r->read_message, "truncated: the file ends after %lld of the %lld frames "
                         "its header lists", r->packets, r->listed_packets);
            }
            avcodec_send_packet(r->decoder, NULL);
            r->draining = 1;
            continue;
        }
        if (r->packet->stream_index != r->stream) { av_packet_unref(r->packet); continue; }
        r->packets++;
        if (r->packet->flags & AV_PKT_FLAG_CORRUPT) note_bad(r, "a packet cut short", 0);
        ret = avcodec_send_packet(r->decoder, r->packet);
        av_packet_unref(r->packet);
        if (ret < 0 && ret != AVERROR(EAGAIN)) note_bad(r, "decode error", ret);
    }
}

void vision_video_close(vision_video_reader *r) {
    if (!r) return;
    sws_freeContext(r->scaler);
    free(r->unturned);
    av_frame_free(&r->frame);
    av_packet_free(&r->packet);
    avcodec_free_context(&r->decoder);
    avformat_close_input(&r->format);
    free(r);
}
