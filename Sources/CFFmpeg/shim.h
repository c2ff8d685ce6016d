// FFmpeg's libavformat, libavcodec, libswscale and libavutil (Debian's libav*-dev, libswscale-dev),
// behind a small decoder shim: FFmpeg's error codes and flags are C macros that Swift cannot import,
// so opening, demuxing + decoding the next frame, seeking and the RGB24 conversion run here and
// return 0 / 1 / a negative status with a message in errbuf.
#ifndef SAM2_CFFMPEG_SHIM_H
#define SAM2_CFFMPEG_SHIM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/imgutils.h>
#include <libavdevice/avdevice.h>
#include <poll.h>
#include <errno.h>
#include <unistd.h>

#define SAM2_AV_ERRBUF_SIZE 256

#define SAM2_AV_CANNOT_OPEN (-1)
#define SAM2_AV_NO_VIDEO_STREAM (-2)
#define SAM2_AV_NO_DECODER (-3)
#define SAM2_AV_DECODE_ERROR (-4)

/// An open video file: its container, the first video stream's decoder and the last decoded frame.
typedef struct sam2_video {
    AVFormatContext *format;
    AVCodecContext *codec;
    AVPacket *packet;
    AVFrame *frame;
    struct SwsContext *sws;
    /// The RGB24 conversion's destination, with the aligned rows and padding swscale's SIMD writes into.
    AVFrame *rgb;
    int stream;
    /// 1 once the demuxer is exhausted and the decoder has been told (flush packet sent).
    int draining;
    /// When set (from any thread, atomically), a blocking open or read returns at once: libavformat's
    /// interrupt callback reads it. NULL: never interrupted. Owned by the caller.
    int *stop;
    /// A custom reader's context (standard input), freed with the video; NULL otherwise.
    AVIOContext *io;
    /// A live stream: data that does not decode is an error, not skipped (a file's damage is skipped,
    /// as the ffmpeg tool skips it; a stream that turns to garbage must say so).
    int strict;
} sam2_video;

static inline int sam2_video_interrupted(void *opaque) {
    return __atomic_load_n((int *)opaque, __ATOMIC_ACQUIRE);
}

/// Sets a stop flag given to sam2_video_open_input (safe from any thread, before or during the open).
static inline void sam2_video_interrupt(int *stop) {
    __atomic_store_n(stop, 1, __ATOMIC_RELEASE);
}

static inline void sam2_av_message(int status, const char *prefix, char *errbuf) {
    char reason[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(status, reason, sizeof(reason));
    snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "%s%s", prefix, reason);
}

static inline void sam2_video_close(sam2_video *v) {
    if (v == NULL) return;
    sws_freeContext(v->sws);
    av_frame_free(&v->rgb);
    av_frame_free(&v->frame);
    av_packet_free(&v->packet);
    avcodec_free_context(&v->codec);
    avformat_close_input(&v->format);
    if (v->io != NULL) {
        free(v->io->opaque);
        av_freep(&v->io->buffer);
        avio_context_free(&v->io);
    }
    free(v);
}

/// Opens `path` and the decoder of its best video stream. Returns 0 and *out, or SAM2_AV_CANNOT_OPEN
/// (not readable or not a container libavformat knows), SAM2_AV_NO_VIDEO_STREAM, SAM2_AV_NO_DECODER
/// (codec name in errbuf) with a message in errbuf.
/// A live source (strict != 0) is probed from at most 64 kB and a tenth of a second of data, so that
/// its first frame is not held back by probing; `stop` (may be NULL) interrupts blocking reads.
static inline int sam2_video_open_input(const char *path, const char *format_name, int strict, int *stop,
                                        AVIOContext *io, sam2_video **out, char *errbuf) {
    *out = NULL;
    errbuf[0] = 0;
    sam2_video *v = (sam2_video *)calloc(1, sizeof(sam2_video));
    if (v == NULL) { snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "out of memory"); return SAM2_AV_CANNOT_OPEN; }
    v->io = io;
    av_log_set_level(AV_LOG_QUIET);
    const AVInputFormat *format = NULL;
    if (format_name != NULL) {
        avdevice_register_all();
        format = av_find_input_format(format_name);
        if (format == NULL) {
            snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "libavformat has no input format '%s'", format_name);
            sam2_video_close(v);
            return SAM2_AV_CANNOT_OPEN;
        }
    }
    v->format = avformat_alloc_context();
    if (v->format == NULL) {
        snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "out of memory");
        sam2_video_close(v);
        return SAM2_AV_CANNOT_OPEN;
    }
    v->stop = stop;
    if (io != NULL) {
        v->format->pb = io;
        v->format->flags |= AVFMT_FLAG_CUSTOM_IO;
    }
    if (stop != NULL) {
        v->format->interrupt_callback.callback = sam2_video_interrupted;
        v->format->interrupt_callback.opaque = stop;
    }
    AVDictionary *options = NULL;
    if (strict) {
        av_dict_set(&options, "probesize", "65536", 0);
        av_dict_set(&options, "analyzeduration", "100000", 0);
    }
    int status = avformat_open_input(&v->format, path, format, &options);
    av_dict_free(&options);
    if (status < 0) {
        sam2_av_message(status, "", errbuf);
        v->format = NULL;  /* freed by avformat_open_input */
        sam2_video_close(v);  /* frees the custom reader, if any */
        return SAM2_AV_CANNOT_OPEN;
    }
    status = avformat_find_stream_info(v->format, NULL);
    if (status < 0) { sam2_av_message(status, "", errbuf); sam2_video_close(v); return SAM2_AV_CANNOT_OPEN; }
    const AVCodec *decoder = NULL;
    status = av_find_best_stream(v->format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (status == AVERROR_STREAM_NOT_FOUND) { sam2_video_close(v); return SAM2_AV_NO_VIDEO_STREAM; }
    if (status < 0 || decoder == NULL) {
        int index = status >= 0 ? status : -1;
        enum AVCodecID id = AV_CODEC_ID_NONE;
        for (unsigned i = 0; index < 0 && i < v->format->nb_streams; i++) {
            if (v->format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) index = (int)i;
        }
        if (index < 0) { sam2_video_close(v); return SAM2_AV_NO_VIDEO_STREAM; }
        id = v->format->streams[index]->codecpar->codec_id;
        snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "%s", avcodec_get_name(id));
        sam2_video_close(v);
        return SAM2_AV_NO_DECODER;
    }
    v->stream = status;
    for (unsigned i = 0; i < v->format->nb_streams; i++) {
        if ((int)i != v->stream) v->format->streams[i]->discard = AVDISCARD_ALL;
    }
    v->codec = avcodec_alloc_context3(decoder);
    v->packet = av_packet_alloc();
    v->frame = av_frame_alloc();
    if (v->codec == NULL || v->packet == NULL || v->frame == NULL) {
        snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "out of memory");
        sam2_video_close(v);
        return SAM2_AV_CANNOT_OPEN;
    }
    status = avcodec_parameters_to_context(v->codec, v->format->streams[v->stream]->codecpar);
    v->strict = strict;
    if (strict) v->codec->err_recognition |= AV_EF_EXPLODE | AV_EF_BITSTREAM | AV_EF_BUFFER;
    if (status >= 0) status = avcodec_open2(v->codec, decoder, NULL);
    if (status < 0) {
        sam2_av_message(status, "cannot open the decoder: ", errbuf);
        sam2_video_close(v);
        return SAM2_AV_NO_DECODER;
    }
    *out = v;
    return 0;
}

/// A file descriptor read through a custom AVIOContext: `head` (bytes the caller read already to tell
/// the format) is served first, then reads wait at most 100 ms at a time so that `stop` is honoured.
typedef struct sam2_fd_reader {
    int fd;
    int *stop;
    unsigned char head[64];
    int head_length;
    int head_position;
} sam2_fd_reader;

static inline int sam2_fd_read(void *opaque, uint8_t *buf, int size) {
    sam2_fd_reader *r = (sam2_fd_reader *)opaque;
    if (r->head_position < r->head_length) {
        int n = r->head_length - r->head_position;
        if (n > size) n = size;
        memcpy(buf, r->head + r->head_position, (size_t)n);
        r->head_position += n;
        return n;
    }
    for (;;) {
        if (r->stop != NULL && __atomic_load_n(r->stop, __ATOMIC_ACQUIRE)) return AVERROR_EXIT;
        struct pollfd p = { r->fd, POLLIN, 0 };
        int ready = poll(&p, 1, 100);
        if (ready < 0 && errno != EINTR) return AVERROR(errno);
        if (ready <= 0) continue;
        ssize_t n = read(r->fd, buf, (size_t)size);
        if (n > 0) return (int)n;
        if (n == 0) return AVERROR_EOF;
        if (errno != EINTR && errno != EAGAIN) return AVERROR(errno);
    }
}

/// Opens the stream on `fd` (standard input) whose first bytes the caller has read into `head`: a
/// format given or probed as sam2_video_open_input does. The reader is freed with the video.
static inline int sam2_video_open_fd(int fd, const unsigned char *head, int head_length, const char *format_name,
                                     int *stop, sam2_video **out, char *errbuf) {
    sam2_fd_reader *reader = (sam2_fd_reader *)calloc(1, sizeof(sam2_fd_reader));
    unsigned char *buffer = (unsigned char *)av_malloc(1 << 16);
    if (reader == NULL || buffer == NULL || head_length > (int)sizeof(reader->head)) {
        free(reader);
        av_free(buffer);
        snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "out of memory");
        return SAM2_AV_CANNOT_OPEN;
    }
    reader->fd = fd;
    reader->stop = stop;
    memcpy(reader->head, head, (size_t)head_length);
    reader->head_length = head_length;
    AVIOContext *io = avio_alloc_context(buffer, 1 << 16, 0, reader, sam2_fd_read, NULL, NULL);
    if (io == NULL) {
        free(reader);
        av_free(buffer);
        snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "out of memory");
        return SAM2_AV_CANNOT_OPEN;
    }
    /* From here the video owns the reader, whatever happens. */
    return sam2_video_open_input(NULL, format_name, 1, stop, io, out, errbuf);
}

/// Opens a file, a URL or a pipe ("pipe:0") and lets libavformat probe its format.
static inline int sam2_video_open(const char *path, sam2_video **out, char *errbuf) {
    return sam2_video_open_input(path, NULL, 0, NULL, NULL, out, errbuf);
}

/// Decodes the next frame (presentation order) into v->frame. Returns 1 with its timestamp
/// (best effort, stream time base; INT64_MIN when unknown), key-frame flag and size; 0 at the end of
/// the stream; SAM2_AV_DECODE_ERROR with a message in errbuf.
static inline int sam2_video_next(sam2_video *v, int64_t *pts, int *key, int *width, int *height, char *errbuf) {
    for (;;) {
        int status = avcodec_receive_frame(v->codec, v->frame);
        if (status == 0 && v->strict && (v->frame->decode_error_flags != 0 || (v->frame->flags & AV_FRAME_FLAG_CORRUPT))) {
            snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "a frame is damaged (the stream broke off or holds garbage)");
            return SAM2_AV_DECODE_ERROR;
        }
        if (status == 0) {
            *pts = v->frame->best_effort_timestamp == AV_NOPTS_VALUE ? INT64_MIN : v->frame->best_effort_timestamp;
#if LIBAVUTIL_VERSION_MAJOR >= 59
            *key = (v->frame->flags & AV_FRAME_FLAG_KEY) != 0;
#else
            *key = v->frame->key_frame != 0;
#endif
            *width = v->frame->width;
            *height = v->frame->height;
            return 1;
        }
        if (status == AVERROR_EOF) return 0;
        /* Data that does not decode is skipped, as the ffmpeg tool skips it (an error when strict). */
        if (status == AVERROR_INVALIDDATA && !v->strict) continue;
        if (status != AVERROR(EAGAIN)) { sam2_av_message(status, "", errbuf); return SAM2_AV_DECODE_ERROR; }
        if (v->draining) return 0;
        for (;;) {
            status = av_read_frame(v->format, v->packet);
            if (status < 0) {
                if (status != AVERROR_EOF) { sam2_av_message(status, "", errbuf); return SAM2_AV_DECODE_ERROR; }
                v->draining = 1;
                status = avcodec_send_packet(v->codec, NULL);
                break;
            }
            if (v->packet->stream_index == v->stream) {
                status = avcodec_send_packet(v->codec, v->packet);
                av_packet_unref(v->packet);
                if (status == AVERROR_INVALIDDATA && !v->strict) continue;
                break;
            }
            av_packet_unref(v->packet);
        }
        if (status < 0 && status != AVERROR(EAGAIN) && status != AVERROR_EOF
            && (status != AVERROR_INVALIDDATA || v->strict)) {
            sam2_av_message(status, "", errbuf);
            return SAM2_AV_DECODE_ERROR;
        }
    }
}

/// Seeks to the last key frame at or before `pts` (stream time base) and resets the decoder.
static inline int sam2_video_seek(sam2_video *v, int64_t pts, char *errbuf) {
    int status = av_seek_frame(v->format, v->stream, pts, AVSEEK_FLAG_BACKWARD);
    if (status < 0) { sam2_av_message(status, "", errbuf); return SAM2_AV_DECODE_ERROR; }
    avcodec_flush_buffers(v->codec);
    v->draining = 0;
    return 0;
}

/// Converts v->frame to packed RGB24 (width * height * 3 bytes at rgb) with swscale's defaults, as
/// PyAV's `to_ndarray(format="rgb24")` does: bilinear, BT.601 matrix, the pixel format's range.
/// swscale writes whole SIMD blocks, past the end of a row whose width is not a multiple of them, so
/// it converts into a frame with libavutil's aligned, padded buffer, whose rows are then copied out.
static inline int sam2_video_rgb(sam2_video *v, uint8_t *rgb, char *errbuf) {
    AVFrame *f = v->frame;
    v->sws = sws_getCachedContext(v->sws, f->width, f->height, (enum AVPixelFormat)f->format,
                                  f->width, f->height, AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
    if (v->sws == NULL) {
        snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "cannot convert pixel format %s to RGB", av_get_pix_fmt_name((enum AVPixelFormat)f->format));
        return SAM2_AV_DECODE_ERROR;
    }
    if (v->rgb == NULL || v->rgb->width != f->width || v->rgb->height != f->height) {
        av_frame_free(&v->rgb);
        v->rgb = av_frame_alloc();
        int status = v->rgb == NULL ? AVERROR(ENOMEM) : 0;
        if (status == 0) {
            v->rgb->format = AV_PIX_FMT_RGB24;
            v->rgb->width = f->width;
            v->rgb->height = f->height;
            status = av_frame_get_buffer(v->rgb, 0);
        }
        if (status < 0) {
            av_frame_free(&v->rgb);
            sam2_av_message(status, "cannot allocate the RGB frame: ", errbuf);
            return SAM2_AV_DECODE_ERROR;
        }
    }
    int rows = sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, v->rgb->data, v->rgb->linesize);
    if (rows != f->height) {
        snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "cannot convert pixel format %s to RGB", av_get_pix_fmt_name((enum AVPixelFormat)f->format));
        return SAM2_AV_DECODE_ERROR;
    }
    av_image_copy_plane(rgb, f->width * 3, v->rgb->data[0], v->rgb->linesize[0], f->width * 3, f->height);
    return 0;
}

/// The stream's frame rate as a fraction (avg_frame_rate, else r_frame_rate); 0/1 when unknown.
static inline void sam2_video_frame_rate(sam2_video *v, int *num, int *den) {
    AVStream *st = v->format->streams[v->stream];
    AVRational r = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate : st->r_frame_rate;
    *num = r.num > 0 && r.den > 0 ? r.num : 0;
    *den = r.num > 0 && r.den > 0 ? r.den : 1;
}

/// A video being written: RGB24 frames → (scaled to even sides for 4:2:0) → an encoder → a container.
typedef struct sam2_video_writer {
    AVFormatContext *format;
    AVCodecContext *codec;
    AVStream *stream;
    AVFrame *frame;
    /// The RGB input copied into libavutil's aligned, padded rows (swscale reads whole SIMD blocks).
    AVFrame *rgb;
    AVPacket *packet;
    struct SwsContext *sws;
    int width;
    int height;
    int64_t next_pts;
} sam2_video_writer;

static inline void sam2_video_writer_free(sam2_video_writer *w) {
    if (w == NULL) return;
    sws_freeContext(w->sws);
    av_frame_free(&w->frame);
    av_frame_free(&w->rgb);
    av_packet_free(&w->packet);
    avcodec_free_context(&w->codec);
    if (w->format != NULL) {
        if (w->format->pb != NULL) avio_closep(&w->format->pb);
        avformat_free_context(w->format);
    }
    free(w);
}

/// Sends a frame (NULL: the end) to the encoder and writes the packets it gives back.
static inline int sam2_video_writer_drain(sam2_video_writer *w, AVFrame *frame, char *errbuf) {
    int status = avcodec_send_frame(w->codec, frame);
    if (status < 0) { sam2_av_message(status, "cannot encode: ", errbuf); return SAM2_AV_DECODE_ERROR; }
    for (;;) {
        status = avcodec_receive_packet(w->codec, w->packet);
        if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return 0;
        if (status < 0) { sam2_av_message(status, "cannot encode: ", errbuf); return SAM2_AV_DECODE_ERROR; }
        /* One frame long: without a duration the MP4 edit list ends before the last frame. */
        if (w->packet->duration <= 0) w->packet->duration = 1;
        av_packet_rescale_ts(w->packet, w->codec->time_base, w->stream->time_base);
        w->packet->stream_index = w->stream->index;
        status = av_interleaved_write_frame(w->format, w->packet);
        if (status < 0) { sam2_av_message(status, "cannot write: ", errbuf); return SAM2_AV_DECODE_ERROR; }
    }
}

/// Opens `path` for writing as container `container` ("mp4", "matroska", ...) with H.264 when this
/// libavcodec has an H.264 encoder (libx264: CRF 20, 4:2:0, the profile every player reads), else
/// MPEG-4 Part 2 (in every libavcodec; quality by qscale). Odd sides are scaled to even ones (4:2:0).
/// *codec_name says which encoder was used.
static inline int sam2_video_writer_open(const char *path, const char *container, int width, int height, int fps_num,
                                         int fps_den, const char **codec_name, sam2_video_writer **out,
                                         char *errbuf) {
    *out = NULL;
    av_log_set_level(AV_LOG_QUIET);
    sam2_video_writer *w = (sam2_video_writer *)calloc(1, sizeof(sam2_video_writer));
    if (w == NULL) { snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "out of memory"); return SAM2_AV_CANNOT_OPEN; }
    int status = avformat_alloc_output_context2(&w->format, NULL, container, path);
    if (status < 0 || w->format == NULL) {
        sam2_av_message(status, "no such container: ", errbuf);
        sam2_video_writer_free(w);
        return SAM2_AV_CANNOT_OPEN;
    }
    const AVCodec *encoder = avcodec_find_encoder(AV_CODEC_ID_H264);
    if (encoder == NULL) encoder = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    if (encoder == NULL) {
        snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "this libavcodec has neither an H.264 nor an MPEG-4 encoder");
        sam2_video_writer_free(w);
        return SAM2_AV_NO_DECODER;
    }
    *codec_name = encoder->name;
    w->width = width;
    w->height = height;
    w->stream = avformat_new_stream(w->format, NULL);
    w->codec = avcodec_alloc_context3(encoder);
    w->frame = av_frame_alloc();
    w->rgb = av_frame_alloc();
    w->packet = av_packet_alloc();
    if (w->stream == NULL || w->codec == NULL || w->frame == NULL || w->rgb == NULL || w->packet == NULL) {
        snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "out of memory");
        sam2_video_writer_free(w);
        return SAM2_AV_CANNOT_OPEN;
    }
    w->codec->width = (width + 1) & ~1;
    w->codec->height = (height + 1) & ~1;
    w->codec->pix_fmt = AV_PIX_FMT_YUV420P;
    w->codec->time_base = (AVRational){ fps_den, fps_num };
    w->codec->framerate = (AVRational){ fps_num, fps_den };
    w->codec->gop_size = 12;
    /* No B-frames: no negative decode times, whose MP4 edit list makes some players skip the first frame. */
    w->codec->max_b_frames = 0;
    if (w->format->oformat->flags & AVFMT_GLOBALHEADER) w->codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *options = NULL;
    if (encoder->id == AV_CODEC_ID_H264) {
        av_dict_set(&options, "crf", "20", 0);
        av_dict_set(&options, "preset", "veryfast", 0);
    } else {
        w->codec->flags |= AV_CODEC_FLAG_QSCALE;
        w->codec->global_quality = FF_QP2LAMBDA * 3;
    }
    status = avcodec_open2(w->codec, encoder, &options);
    av_dict_free(&options);
    if (status >= 0) status = avcodec_parameters_from_context(w->stream->codecpar, w->codec);
    if (status < 0) {
        sam2_av_message(status, "cannot open the encoder: ", errbuf);
        sam2_video_writer_free(w);
        return SAM2_AV_NO_DECODER;
    }
    w->stream->time_base = w->codec->time_base;
    w->frame->format = w->codec->pix_fmt;
    w->frame->width = w->codec->width;
    w->frame->height = w->codec->height;
    status = av_frame_get_buffer(w->frame, 0);
    w->rgb->format = AV_PIX_FMT_RGB24;
    w->rgb->width = width;
    w->rgb->height = height;
    if (status >= 0) status = av_frame_get_buffer(w->rgb, 0);
    if (status >= 0) status = avio_open(&w->format->pb, path, AVIO_FLAG_WRITE);
    if (status >= 0) status = avformat_write_header(w->format, NULL);
    if (status < 0) {
        sam2_av_message(status, "cannot write: ", errbuf);
        sam2_video_writer_free(w);
        return SAM2_AV_CANNOT_OPEN;
    }
    w->sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, w->codec->width, w->codec->height, AV_PIX_FMT_YUV420P,
                            SWS_BILINEAR, NULL, NULL, NULL);
    if (w->sws == NULL) {
        snprintf(errbuf, SAM2_AV_ERRBUF_SIZE, "cannot convert RGB to YUV 4:2:0");
        sam2_video_writer_free(w);
        return SAM2_AV_CANNOT_OPEN;
    }
    *out = w;
    return 0;
}

/// Encodes one packed RGB24 frame (width * height * 3 bytes).
static inline int sam2_video_writer_write(sam2_video_writer *w, const uint8_t *rgb, char *errbuf) {
    int status = av_frame_make_writable(w->frame);
    if (status < 0) { sam2_av_message(status, "", errbuf); return SAM2_AV_DECODE_ERROR; }
    av_image_copy_plane(w->rgb->data[0], w->rgb->linesize[0], rgb, w->width * 3, w->width * 3, w->height);
    sws_scale(w->sws, (const uint8_t *const *)w->rgb->data, w->rgb->linesize, 0, w->height, w->frame->data,
              w->frame->linesize);
    w->frame->pts = w->next_pts++;
    return sam2_video_writer_drain(w, w->frame, errbuf);
}

/// Flushes the encoder and writes the container's trailer; frees the writer either way.
static inline int sam2_video_writer_finish(sam2_video_writer *w, char *errbuf) {
    int status = sam2_video_writer_drain(w, NULL, errbuf);
    if (status == 0) {
        int written = av_write_trailer(w->format);
        if (written < 0) { sam2_av_message(written, "cannot write: ", errbuf); status = SAM2_AV_DECODE_ERROR; }
    }
    sam2_video_writer_free(w);
    return status;
}

#endif
