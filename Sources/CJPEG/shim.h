// libjpeg-turbo (Debian's libjpeg62-turbo-dev). jpeglib.h needs FILE and size_t declared first.
// Also a small decoder shim: libjpeg reports errors by longjmp, which Swift cannot do, so the whole
// decode (header, size check, scanlines, APP1 markers) runs here and returns 0 / -1 / -2.
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

/// What `sam2_jpeg_decode` returns besides its status.
typedef struct sam2_jpeg_result {
    int width;
    int height;
    /// 1 (gray), 3 (RGB) or 4 (CMYK as stored: Adobe-inverted for PIL-compatible handling).
    int components;
    /// Pixels, width * height * components bytes, malloc'd; free with sam2_jpeg_free.
    unsigned char *pixels;
    /// Payload of the first APP1 segment starting with "Exif\0\0" (NULL if none), malloc'd.
    unsigned char *exif;
    unsigned long exif_length;
} sam2_jpeg_result;

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

static inline void sam2_jpeg_free(sam2_jpeg_result *result) {
    if (result == NULL) return;
    free(result->pixels);
    free(result->exif);
    result->pixels = NULL;
    result->exif = NULL;
    result->exif_length = 0;
}

/// Decodes a JPEG from memory with libjpeg's defaults (JDCT_ISLOW, fancy upsampling), as PIL does.
/// Returns 0 on success, -1 on a libjpeg error (message in errbuf, SAM2_JPEG_ERRBUF_SIZE bytes;
/// *truncated set to 1 when the data ended early), -2 when width or height exceeds max_dimension or
/// width * height exceeds max_pixels (result->width/height are set; nothing is allocated).
static inline int sam2_jpeg_decode(const unsigned char *data, unsigned long size,
                                   long max_dimension, long long max_pixels,
                                   sam2_jpeg_result *result, int *truncated, char *errbuf) {
    struct jpeg_decompress_struct cinfo;
    sam2_jpeg_error_mgr jerr;
    /* volatile: modified between setjmp and longjmp. */
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile exif = NULL;
    volatile unsigned long exif_length = 0;

    memset(result, 0, sizeof(*result));
    *truncated = 0;
    errbuf[0] = 0;
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = sam2_jpeg_error_exit;
    jerr.pub.emit_message = sam2_jpeg_emit_message;
    jerr.errbuf = errbuf;
    jerr.truncated = 0;
    if (setjmp(jerr.jump)) {
        *truncated = jerr.truncated;
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(exif);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);

    result->width = (int)cinfo.image_width;
    result->height = (int)cinfo.image_height;
    if ((long)cinfo.image_width > max_dimension || (long)cinfo.image_height > max_dimension ||
        (long long)cinfo.image_width * (long long)cinfo.image_height > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        return -2;
    }

    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != NULL; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0) {
            exif = (unsigned char *)malloc(m->data_length);
            if (exif == NULL) {
                snprintf(errbuf, SAM2_JPEG_ERRBUF_SIZE, "out of memory");
                jpeg_destroy_decompress(&cinfo);
                return -1;
            }
            memcpy(exif, m->data, m->data_length);
            exif_length = m->data_length;
            break;
        }
    }

    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo.out_color_space = JCS_CMYK;
        break;
    default:
        cinfo.out_color_space = JCS_RGB;
        break;
    }
    jpeg_start_decompress(&cinfo);

    size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    pixels = (unsigned char *)malloc(stride * (size_t)cinfo.output_height);
    if (pixels == NULL) {
        snprintf(errbuf, SAM2_JPEG_ERRBUF_SIZE, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        free(exif);
        return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);

    result->width = (int)cinfo.output_width;
    result->height = (int)cinfo.output_height;
    result->components = cinfo.output_components;
    result->pixels = pixels;
    result->exif = exif;
    result->exif_length = exif_length;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

#endif
