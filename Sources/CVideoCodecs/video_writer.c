// Video encoding: RGB24 frames -> libswscale -> libx264 -> MP4 (moov moved to the
// front, so the file plays while it downloads and its comment tag is near the start).

#include "video_codecs.h"
#include "video_internal.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <string.h>

struct vision_video_writer {
    AVFormatContext *format;
    AVCodecContext *encoder;
    AVStream *stream;
    AVFrame *frame;
    AVPacket *packet;
    struct SwsContext *scaler;
    int width, height;
    long long last_pts;
    int has_pts;
    /// One frame's duration in the encoder's time base (the last frame's duration).
    long long frame_duration;
};

static void release(vision_video_writer *w) {
    if (!w) return;
    sws_freeContext(w->scaler);
    av_frame_free(&w->frame);
    av_packet_free(&w->packet);
    avcodec_free_context(&w->encoder);
    if (w->format) {
        if (w->format->pb) avio_closep(&w->format->pb);
        avformat_free_context(w->format);
    }
    free(w);
}

int vision_video_writer_open(const char *path, int width, int height, int frame_rate_num, int frame_rate_den,
                             int time_base_num, int time_base_den, const char *comment,
                             vision_video_writer **out, char *message) {
    vision_video_install_log();
    *out = NULL;
    if (width <= 0 || height <= 0 || frame_rate_num <= 0 || frame_rate_den <= 0 || time_base_num <= 0 || time_base_den <= 0) {
        snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "bad size %dx%d, frame rate %d/%d or time base %d/%d", width, height,
                 frame_rate_num, frame_rate_den, time_base_num, time_base_den);
        return VISION_VIDEO_ERROR;
    }
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) {
        snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "this FFmpeg build has no libx264 H.264 encoder");
        return VISION_VIDEO_ERROR;
    }
    vision_video_writer *w = calloc(1, sizeof *w);
    if (!w) { snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "out of memory"); return VISION_VIDEO_ERROR; }
    w->width = width;
    w->height = height;
    int ret = avformat_alloc_output_context2(&w->format, NULL, "mp4", path);
    if (ret < 0 || !w->format) { vision_video_describe(message, "cannot set up an MP4 file", ret); goto fail; }
    w->stream = avformat_new_stream(w->format, NULL);
    w->encoder = avcodec_alloc_context3(codec);
    w->packet = av_packet_alloc();
    w->frame = av_frame_alloc();
    if (!w->stream || !w->encoder || !w->packet || !w->frame) {
        snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "out of memory");
        goto fail;
    }
    AVCodecContext *enc = w->encoder;
    enc->width = width;
    enc->height = height;
    enc->time_base = (AVRational){time_base_num, time_base_den};
    enc->framerate = (AVRational){frame_rate_num, frame_rate_den};
    // 4:2:0 needs even sizes; an odd-sized input keeps its size with 4:4:4.
    enc->pix_fmt = (width % 2 == 0 && height % 2 == 0) ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_YUV444P;
    enc->thread_count = 1;
    if (w->format->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(enc->priv_data, "preset", "veryfast", 0);
    ret = avcodec_open2(enc, codec, NULL);
    if (ret < 0) { vision_video_describe(message, "cannot open the H.264 encoder", ret); goto fail; }
    ret = avcodec_parameters_from_context(w->stream->codecpar, enc);
    if (ret < 0) { vision_video_describe(message, "bad encoder parameters", ret); goto fail; }
    w->stream->time_base = enc->time_base;
    w->stream->avg_frame_rate = enc->framerate;
    w->frame_duration = av_rescale_q(1, av_inv_q(enc->framerate), enc->time_base);
    if (w->frame_duration <= 0) w->frame_duration = 1;
    if (comment && comment[0]) av_dict_set(&w->format->metadata, "comment", comment, 0);

    w->frame->format = enc->pix_fmt;
    w->frame->width = width;
    w->frame->height = height;
    ret = av_frame_get_buffer(w->frame, 0);
    if (ret < 0) { vision_video_describe(message, "cannot allocate a frame", ret); goto fail; }
    w->scaler = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, enc->pix_fmt, SWS_BILINEAR, NULL, NULL, NULL);
    if (!w->scaler) { snprintf(message, VISION_VIDEO_MESSAGE_CAPACITY, "cannot set up the RGB to YUV conversion"); goto fail; }

    ret = avio_open(&w->format->pb, path, AVIO_FLAG_WRITE);
    if (ret < 0) { vision_video_describe(message, "cannot create the file", ret); goto fail; }
    AVDictionary *options = NULL;
    av_dict_set(&options, "movflags", "+faststart", 0);
    ret = avformat_write_header(w->format, &options);
    av_dict_free(&options);
    if (ret < 0) { vision_video_describe(message, "cannot write the MP4 header", ret); goto fail; }
    *out = w;
    return VISION_VIDEO_OK;
fail:
    release(w);
    return VISION_VIDEO_ERROR;
}

/// Sends `frame` (NULL: end of stream) and writes every packet the encoder returns.
static int encode(vision_video_writer *w, AVFrame *frame, char *message) {
    int ret = avcodec_send_frame(w->encoder, frame);
    if (ret < 0) { vision_video_describe(message, "the encoder rejected a frame", ret); return VISION_VIDEO_ERROR; }
    for (;;) {
        ret = avcodec_receive_packet(w->encoder, w->packet);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return VISION_VIDEO_OK;
        if (ret < 0) { vision_video_describe(message, "encoding failed", ret); return VISION_VIDEO_ERROR; }
        // libx264 leaves durations unset; the MP4's last sample needs one.
        if (w->packet->duration <= 0) w->packet->duration = w->frame_duration;
        av_packet_rescale_ts(w->packet, w->encoder->time_base, w->stream->time_base);
        w->packet->stream_index = w->stream->index;
        ret = av_interleaved_write_frame(w->format, w->packet);
        if (ret < 0) { vision_video_describe(message, "cannot write to the file", ret); return VISION_VIDEO_ERROR; }
    }
}

int vision_video_writer_write(vision_video_writer *w, const unsigned char *rgb, long long pts, char *message) {
    message[0] = 0;
    int ret = av_frame_make_writable(w->frame);
    if (ret < 0) { vision_video_describe(message, "cannot allocate a frame", ret); return VISION_VIDEO_ERROR; }
    const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
    int stride[4] = {w->width * 3, 0, 0, 0};
    sws_scale(w->scaler, src, stride, 0, w->height, w->frame->data, w->frame->linesize);
    if (w->has_pts && pts <= w->last_pts) pts = w->last_pts + 1;
    w->last_pts = pts;
    w->has_pts = 1;
    w->frame->pts = pts;
    return encode(w, w->frame, message);
}

int vision_video_writer_finish(vision_video_writer *w, char *message) {
    message[0] = 0;
    int status = encode(w, NULL, message);
    if (status == VISION_VIDEO_OK) {
        int ret = av_write_trailer(w->format);
        if (ret < 0) { vision_video_describe(message, "cannot finish the MP4 file", ret); status = VISION_VIDEO_ERROR; }
    }
    release(w);
    return status;
}

void vision_video_writer_abort(vision_video_writer *w) { release(w); }
