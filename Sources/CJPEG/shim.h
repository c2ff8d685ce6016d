// libjpeg-turbo (Debian's libjpeg62-turbo-dev). jpeglib.h needs FILE and size_t declared first.
// Also a small decoder shim: libjpeg reports errors by longjmp, which Swift cannot do, so each step
// of a decode (header and size check, a batch of scanlines, the end) runs here behind setjmp and
// returns 0 / -1 / -2; and a small encoder into memory (the server's video frames).
#ifndef SAM2_CJPEG_SHIM_H
#define SAM2_CJPEG_SHIM_H

#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

#define SAM2_JPEG_ERRBUF_SIZE 256

typedef struct sam2_jpeg_error_mgr {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char *errbuf;
    int truncated;
} sam2_jpeg_error_mgr;

static inline void sam2_jpeg_error_exit(j_common_ptr cinfo) {
    sam2_jpeg_error_mgr *err = (sam2_jpeg_error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->errbuf);
    longjmp(err->jump, 1);
}

static inline void sam2_jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
    sam2_jpeg_error_mgr *err = (sam2_jpeg_error_mgr *)cinfo->err;
    // Warnings (level -1) are ignored as PIL ignores them, except running out of data: libjpeg
    // would pad the image with gray, where PIL raises "image file is truncated".
    if (msg_level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        err->truncated = 1;
        snprintf(err->errbuf, SAM2_JPEG_ERRBUF_SIZE, "truncated JPEG data (premature end of file)");
        longjmp(err->jump, 1);
    }
}

/// A JPEG being decoded from memory, scanline by scanline, with libjpeg's defaults (JDCT_ISLOW, fancy
/// upsampling), as PIL does. After `sam2_jpeg_open`: the output size and components (1 gray, 3 RGB,
/// or 4 CMYK as stored: Adobe-inverted, for PIL-compatible handling) and the EXIF payload.
typedef struct sam2_jpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    sam2_jpeg_error_mgr jerr;
    char errbuf[SAM2_JPEG_ERRBUF_SIZE];
    int created;
    int width;
    int height;
    int components;
    /// Payload of the first APP1 segment starting with "Exif\0\0" (NULL if none), malloc'd.
    unsigned char *exif;
    unsigned long exif_length;
} sam2_jpeg_decoder;

/// Frees everything the decoder holds (safe to call more than once).
static inline void sam2_jpeg_close(sam2_jpeg_decoder *d) {
    if (d->created) jpeg_destroy_decompress(&d->cinfo);
    d->created = 0;
    free(d->exif);
    d->exif = NULL;
    d->exif_length = 0;
}

/// Reads the header, checks the size and starts decompression, with libjpeg's working memory held
/// to max_memory bytes (progressive images keep every coefficient). Returns 0, -1 on a libjpeg error
/// (message in d->errbuf; d->jerr.truncated set when the data ended early), or -2 when width or height
/// exceeds max_dimension or width * height exceeds max_pixels (d->width and d->height set; nothing
/// allocated for the pixels). Call sam2_jpeg_close afterwards in every case.
static inline int sam2_jpeg_open(sam2_jpeg_decoder *d, const unsigned char *data, unsigned long size,
                                 long max_dimension, long long max_pixels, long max_memory) {
    memset(d, 0, sizeof(*d));
    d->cinfo.err = jpeg_std_error(&d->jerr.pub);
    d->jerr.pub.error_exit = sam2_jpeg_error_exit;
    d->jerr.pub.emit_message = sam2_jpeg_emit_message;
    d->jerr.errbuf = d->errbuf;
    if (setjmp(d->jerr.jump)) return -1;
    jpeg_create_decompress(&d->cinfo);
    d->created = 1;
    d->cinfo.mem->max_memory_to_use = max_memory;
    jpeg_mem_src(&d->cinfo, data, size);
    jpeg_save_markers(&d->cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&d->cinfo, TRUE);
    d->width = (int)d->cinfo.image_width;
    d->height = (int)d->cinfo.image_height;
    if ((long)d->cinfo.image_width > max_dimension || (long)d->cinfo.image_height > max_dimension ||
        (long long)d->cinfo.image_width * (long long)d->cinfo.image_height > max_pixels) {
        return -2;
    }
    for (jpeg_saved_marker_ptr m = d->cinfo.marker_list; m != NULL; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
            d->exif = (unsigned char *)malloc(m->data_length);
            if (d->exif == NULL) {
                snprintf(d->errbuf, SAM2_JPEG_ERRBUF_SIZE, "out of memory");
                return -1;
            }
            memcpy(d->exif, m->data, m->data_length);
            d->exif_length = m->data_length;
            break;
        }
    }
    switch (d->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: d->cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: d->cinfo.out_color_space = JCS_CMYK; break;
    default: d->cinfo.out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(&d->cinfo);
    d->width = (int)d->cinfo.output_width;
    d->height = (int)d->cinfo.output_height;
    d->components = d->cinfo.output_components;
    return 0;
}

/// Decodes the next `count` scanlines (width * components bytes each) into rows. Returns 0 or -1.
static inline int sam2_jpeg_read_rows(sam2_jpeg_decoder *d, unsigned char **rows, int count) {
    if (setjmp(d->jerr.jump)) return -1;
    int done = 0;
    while (done < count && d->cinfo.output_scanline < d->cinfo.output_height) {
        done += (int)jpeg_read_scanlines(&d->cinfo, (JSAMPARRAY)(rows + done), (JDIMENSION)(count - done));
    }
    return 0;
}

/// Finishes the decode (reads to the end of the data). Returns 0 or -1.
static inline int sam2_jpeg_finish(sam2_jpeg_decoder *d) {
    if (setjmp(d->jerr.jump)) return -1;
    jpeg_finish_decompress(&d->cinfo);
    return 0;
}

/// Encodes 8-bit RGB pixels (width·height·3, row-major) as a baseline JPEG of `quality` (1…100) into a
/// buffer malloc'd by libjpeg (*out, *out_size; free it). Returns 0, or -1 with errbuf (256 bytes) set.
static inline int sam2_jpeg_encode(const unsigned char *rgb, int width, int height, int quality,
                                   unsigned char **out, unsigned long *out_size, char *errbuf) {
    struct jpeg_compress_struct cinfo;
    sam2_jpeg_error_mgr jerr;
    memset(&jerr, 0, sizeof jerr);
    jerr.errbuf = errbuf;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = sam2_jpeg_error_exit;
    *out = NULL;
    *out_size = 0;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(*out);
        *out = NULL;
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, out, out_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return 0;
}

#endif
